// The CI workflows a team's repository runs (.github/): they cannot run here, so they are linted
// with actionlint (which also runs shellcheck on each `run:` script) and every action is pinned.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/paths";
import { check, filesUnder } from "./run";

describe("GitHub workflows (.github/)", () => {
  it("pass actionlint, shellcheck of their scripts included", () => {
    const { status, output } = check(path.join(projectRoot, ".tools", "bin", "actionlint"), ["-no-color", "-oneline"]);
    expect(output, "actionlint findings").to.equal("");
    expect(status).to.equal(0);
  });

  it("use every third-party action by commit digest, its version in a comment", () => {
    const uses = filesUnder(".github", /\.ya?ml$/).flatMap((file) =>
      [...fs.readFileSync(path.join(projectRoot, file), "utf8").matchAll(/uses:\s*(\S+)(.*)$/gm)].map(([, action, rest]) => ({ file, action, rest })),
    );
    expect(uses.length).to.be.greaterThan(3);
    const unpinned = uses.filter(({ action, rest }) => !action.startsWith("./") && !(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(action) && /^\s+# v\d+\.\d+\.\d+$/.test(rest)));
    expect(unpinned).to.deep.equal([]);
  });

  it("preview each stack with the policy pack on pull requests, and deploy dev, then prod behind its environment, on merge", () => {
    const read = (file: string) => fs.readFileSync(path.join(projectRoot, ".github", "workflows", file), "utf8");
    expect(read("stack.yml")).to.include("--policy-pack policy").and.include("npm test");
    expect(read("preview.yml")).to.match(/pull_request:/).and.match(/stack: \[dev, prod\]/).and.include("command: preview");
    const deploy = read("deploy.yml");
    expect(deploy).to.match(/push:\n\s+branches: \[main\]/);
    expect(deploy).to.match(/prod:\n\s+needs: dev\n[\s\S]*environment: prod/);
  });
});
