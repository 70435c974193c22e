// The README's configuration reference is Pulumi.yaml's config block, not a copy that drifts.
import { expect } from "chai";
import { readProjectFiles, renderConfigSection, withConfigSection } from "../../scripts/docs/config-docs";

describe("README configuration reference", () => {
  it("is up to date with Pulumi.yaml (run `npm run docs:config`)", () => {
    const { pulumiYaml, readme } = readProjectFiles();
    expect(readme).to.equal(withConfigSection(readme, renderConfigSection(pulumiYaml)));
  });

  it("lists every declared key with its default", () => {
    const section = renderConfigSection("name: p\nconfig:\n  minReplicas:\n    type: integer\n    default: 1\n    description: Fewest | replicas.\n");
    expect(section).to.contain("| `p:minReplicas` | integer | `1` | Fewest \\| replicas. |");
  });
});
