// `npm run stress` as a user runs it against a stack on the real node, its report read back from
// series.json. The output is printed, indented under the step that ran it.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Series } from "../../../stress/load/series";
import type { LocalCluster } from "../../support/local-cluster";
import { projectRoot } from "../../support/paths";

export async function stress(cluster: LocalCluster, namespace: string, args: string[]): Promise<Series> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "hitcounter-stress-"));
  const { stdout } = await promisify(execFile)("npm", ["run", "--silent", "stress", "--", ...args, "--kubeconfig", cluster.kubeconfig, "--namespace", namespace, "--out", out], {
    cwd: projectRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  console.log(stdout.replace(/^/gm, "      "));
  return JSON.parse(fs.readFileSync(path.join(out, "series.json"), "utf8")) as Series;
}
