// Writes the README's configuration reference from Pulumi.yaml's `config:` block, the one place
// every setting is declared: `npm run docs:config`. test/scripts/config-docs.test.ts fails when the
// README is behind.
import * as fs from "node:fs";
import * as path from "node:path";
import yaml from "js-yaml";

const root = path.join(__dirname, "..", "..");
const begin = "<!-- section:config -->";
const end = "<!-- /section:config -->";

interface Declaration {
  type: string;
  default: unknown;
  description: string;
}

/** The README's config section body: a short preface and one table row per declared key. */
export function renderConfigSection(pulumiYaml: string): string {
  const project = yaml.load(pulumiYaml) as { name: string; config: Record<string, Declaration> };
  const cell = (text: string) => text.replaceAll("|", "\\|");
  // Keys of other namespaces (kubernetes:strictMode) are fixed values, not settings of this program.
  const rows = Object.entries(project.config).filter(([key]) => !key.includes(":")).map(
    ([key, decl]) => `| \`${project.name}:${key}\` | ${decl.type} | \`${JSON.stringify(decl.default)}\` | ${cell(decl.description)} |`,
  );
  return [
    "## Configuration",
    "",
    "Every setting is declared once, with its type and default, in `Pulumi.yaml`; `Pulumi.dev.yaml` and",
    "`Pulumi.prod.yaml` override what differs. `pulumi config set <key> <value> -s <stack>` changes one;",
    "`pulumi preview` validates them all before anything is created and names the first bad key.",
    "This table is generated from `Pulumi.yaml` by `npm run docs:config`.",
    "",
    "| key | type | default | meaning |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** The README with its config section replaced. */
export function withConfigSection(readme: string, section: string): string {
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${begin} ... ${end} markers`);
  return `${readme.slice(0, from + begin.length)}\n${section}\n${readme.slice(to)}`;
}

export function readProjectFiles(): { pulumiYaml: string; readme: string } {
  return {
    pulumiYaml: fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"),
    readme: fs.readFileSync(path.join(root, "README.md"), "utf8"),
  };
}

if (require.main === module) {
  const { pulumiYaml, readme } = readProjectFiles();
  fs.writeFileSync(path.join(root, "README.md"), withConfigSection(readme, renderConfigSection(pulumiYaml)));
  console.log("README.md: configuration reference written from Pulumi.yaml");
}
