// Every shell script of the repository passes shellcheck (Debian's package), with .shellcheckrc.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/paths";
import { check } from "./run";

function shellScripts(dir: string): string[] {
  return fs.readdirSync(path.join(projectRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return shellScripts(file);
    return entry.name.endsWith(".sh") ? [file] : [];
  });
}

describe("shell scripts", () => {
  it("pass shellcheck: scripts/**/*.sh and .ci/run", () => {
    const scripts = [...shellScripts("scripts"), ".ci/run"];
    expect(scripts.length).to.be.greaterThan(10);
    const { status, output } = check("shellcheck", ["--format=gcc", ...scripts]);
    expect(output, "shellcheck findings").to.equal("");
    expect(status).to.equal(0);
  });
});
