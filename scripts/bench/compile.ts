// A benchmark's own TypeScript server run the way the service runs: compiled ahead of time to
// CommonJS and started with plain `node`. Under `--import tsx` the loader's hooks stay in the process
// (the bare server's RSS grew to about 600 MiB and its p99 to 163 ms that way), so it would not be
// the bare limit it stands for.
import { buildSync } from "esbuild";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const serviceModules = path.resolve(__dirname, "../../service/node_modules");

export interface CompiledScript {
  /** The JavaScript file to hand to `node`. */
  file: string;
  /** Environment for `node`: packages resolve from the service's node_modules, the same copies it loads. */
  env: { NODE_PATH: string };
  /** Deletes the compiled file. */
  remove(): void;
}

/** Compiles one file (its imports stay imports, as tsc leaves them) into a temporary folder. */
export function compileScript(source: string): CompiledScript {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hitcounter-bench-"));
  const file = path.join(dir, `${path.basename(source, ".ts")}.js`);
  buildSync({ entryPoints: [source], outfile: file, format: "cjs", platform: "node", target: "node24", logLevel: "warning" });
  return { file, env: { NODE_PATH: serviceModules }, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
