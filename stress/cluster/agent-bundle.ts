// The in-cluster agent (agent.ts and what it imports, autocannon included) bundled by esbuild into
// one file, which a ConfigMap ships to the Job and the `node` of the app's own image runs.
import path from "node:path";
import { build } from "esbuild";

export async function bundleAgent(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(__dirname, "agent.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // Minified, the bundle is about 0.5 MB: well inside a ConfigMap's 1 MiB.
    minify: true,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}
