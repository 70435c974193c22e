// Runs a checker as CI does: its exit status and everything it printed, for the assertion message.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../support/paths";

/** The files under `dir` (relative to the project root) whose names match `name`, relative too. */
export function filesUnder(dir: string, name: RegExp): string[] {
  return fs.readdirSync(path.join(projectRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(file, name);
    return name.test(entry.name) ? [file] : [];
  });
}

export interface Checked {
  status: number | null;
  output: string;
}

/** Runs `command` in the project root; a checker that is not installed fails the test, it never skips it. */
export function check(command: string, args: string[], env: Record<string, string> = {}): Checked {
  const run = spawnSync(command, args, { cwd: projectRoot, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`${command} could not run (${run.error.message}): run .ci/run, or see docs/working-on-a-team.md`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
