// scripts/versions.env and scripts/cluster/addresses.env as the tests read them: every NAME=value line.
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "./paths";

function settings(...file: string[]): Record<string, string> {
  const text = fs.readFileSync(path.join(projectRoot, ...file), "utf8");
  return Object.fromEntries([...text.matchAll(/^([A-Z_]+)=(\S+)$/gm)].map(([, name, value]) => [name, value]));
}

/** Every pinned version (scripts/versions.env). */
export function pinnedVersions(): Record<string, string> {
  return settings("scripts", "versions.env");
}

/** The local cluster's loopback and cluster-internal addresses (scripts/cluster/addresses.env). */
export function clusterAddresses(): Record<string, string> {
  return settings("scripts", "cluster", "addresses.env");
}
