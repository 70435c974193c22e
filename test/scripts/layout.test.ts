// The README's folder map is the tree git holds: every top-level folder and every folder under
// scripts/ and test/ has its row, and no row names a folder that is gone.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/paths";

/** The folders of the map's first column, e.g. `scripts/bench`. */
function mappedFolders(readme: string): string[] {
  const begin = readme.indexOf("<!-- section:layout -->");
  const end = readme.indexOf("<!-- /section:layout -->");
  if (begin < 0 || end < begin) throw new Error("README.md lacks the <!-- section:layout --> ... <!-- /section:layout --> markers");
  return [...readme.slice(begin, end).matchAll(/^\| `([^`]+)\/` \|/gm)].map(([, folder]) => folder);
}

/** Every folder that holds a file git tracks. */
function trackedFolders(): Set<string> {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: projectRoot, encoding: "utf8" }).split("\0").filter(Boolean);
  const folders = new Set<string>();
  for (const file of files) {
    for (let dir = path.posix.dirname(file); dir !== "."; dir = path.posix.dirname(dir)) folders.add(dir);
  }
  return folders;
}

describe("README folder map", () => {
  const mapped = mappedFolders(fs.readFileSync(path.join(projectRoot, "README.md"), "utf8"));
  const tracked = trackedFolders();

  it("names every top-level folder and every folder under scripts/ and test/", () => {
    const required = [...tracked].filter((dir) => !dir.includes("/") || /^(scripts|test)\//.test(dir)).sort();
    expect(required.filter((dir) => !mapped.includes(dir))).to.deep.equal([]);
  });

  it("names no folder that git does not hold", () => {
    expect(mapped.length).to.be.greaterThan(10);
    expect(mapped.filter((dir) => !tracked.has(dir))).to.deep.equal([]);
  });
});
