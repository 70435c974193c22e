// The README's file tables name files that exist: a moved or renamed file must take its row along.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/paths";

describe("README file references", () => {
  it("names only files and folders that exist in the tree", () => {
    const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
    const named = [...readme.matchAll(/`((?:components|stress|scripts|service|test)\/[\w./-]+)`/g)].map(([, file]) => file);
    expect(named.length).to.be.greaterThan(30);
    const missing = [...new Set(named)].filter((file) => !fs.existsSync(path.join(projectRoot, file)));
    expect(missing).to.deep.equal([]);
  });
});
