// The README and docs/ name files that exist, and link to pages and headings that exist: a moved or
// renamed file must take its mentions along, a renamed heading its links.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/paths";

/** README.md and every page of docs/, as paths relative to the project root. */
function documentationFiles(): string[] {
  const pages = fs.readdirSync(path.join(projectRoot, "docs")).filter((name) => name.endsWith(".md"));
  return ["README.md", ...pages.sort().map((name) => `docs/${name}`)];
}

const read = (file: string) => fs.readFileSync(path.join(projectRoot, file), "utf8");

/** The text outside fenced code blocks, where a `#` line is a heading and `[x](y)` a link. */
function prose(markdown: string): string {
  return markdown.replace(/^ *```[^\n]*\n[\s\S]*?^ *```$/gm, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
function headingSlug(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor a page has; a repeated heading gets -1, -2, ... as on GitHub. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = headingSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

describe("README and docs file references", () => {
  it("name only files and folders that exist in the tree", () => {
    const named = documentationFiles().flatMap((file) =>
      [...read(file).matchAll(/`((?:components|stress|scripts|service|test|policy|docs|\.ci|\.github)\/[\w./-]*)`/g)].map(
        ([, mention]) => `${file}: ${mention}`,
      ),
    );
    expect(named.length).to.be.greaterThan(30);
    const missing = [...new Set(named)].filter((entry) => !fs.existsSync(path.join(projectRoot, entry.split(": ")[1])));
    expect(missing).to.deep.equal([]);
  });

  it("link only to files that exist and, with an anchor, to a heading in them", () => {
    const broken: string[] = [];
    let links = 0;
    for (const file of documentationFiles()) {
      // Inline code goes first: a `[0](...)` inside backticks is not a link.
      const text = prose(read(file)).replace(/`[^`\n]*`/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
        links += 1;
        const [relative, anchor] = target.split("#");
        const linked = relative === "" ? file : path.normalize(path.join(path.dirname(file), relative));
        if (!fs.existsSync(path.join(projectRoot, linked))) broken.push(`${file}: (${target}) has no ${linked}`);
        else if (anchor !== undefined && !anchors(read(linked)).has(anchor)) broken.push(`${file}: (${target}) has no heading #${anchor} in ${linked}`);
      }
    }
    expect(links).to.be.greaterThan(30);
    expect(broken).to.deep.equal([]);
  });

  it("slug headings as GitHub does", () => {
    expect(headingSlug("The chart's admission webhook (`monitoringAdmissionWebhooks`)")).to.equal(
      "the-charts-admission-webhook-monitoringadmissionwebhooks",
    );
    expect(headingSlug("`npm run test:real`")).to.equal("npm-run-testreal");
    expect(headingSlug("Stress test: watch the HPA scale out")).to.equal("stress-test-watch-the-hpa-scale-out");
    expect([...anchors("# Tests\n```sh\n# not a heading\n```\n## Tests\n")]).to.deep.equal(["tests", "tests-1"]);
  });
});
