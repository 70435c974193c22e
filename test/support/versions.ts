// scripts/versions.env as the tests read it: every NAME=value line.
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "./paths";

export function pinnedVersions(): Record<string, string> {
  const text = fs.readFileSync(path.join(projectRoot, "scripts", "versions.env"), "utf8");
  return Object.fromEntries([...text.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map(([, name, value]) => [name, value]));
}
