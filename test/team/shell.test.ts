// Every shell script of the repository passes shellcheck (Debian's package), with .shellcheckrc.
import { expect } from "chai";
import { check, filesUnder } from "./run";

describe("shell scripts", () => {
  it("pass shellcheck: scripts/**/*.sh and .ci/run", () => {
    const scripts = [...filesUnder("scripts", /\.sh$/), ".ci/run"];
    expect(scripts.length).to.be.greaterThan(10);
    const { status, output } = check("shellcheck", ["--format=gcc", ...scripts]);
    expect(output, "shellcheck findings").to.equal("");
    expect(status).to.equal(0);
  });
});
