// How the image runs the service, read from service/Dockerfile so a benchmark measures that and not
// a copy that drifts: node's flags from CMD and the environment from ENV.
import fs from "node:fs";
import path from "node:path";

const dockerfile = path.resolve(__dirname, "../../service/Dockerfile");

export interface ImageCommand {
  /** The flags between `node` and the script in CMD. */
  nodeArgs: string[];
  /** ENV's settings, less PORT (a benchmark picks a free one). */
  env: Record<string, string>;
}

export function imageCommand(): ImageCommand {
  const text = fs.readFileSync(dockerfile, "utf8");
  const cmd = /^CMD (\[.*\])$/m.exec(text)?.[1];
  const envLine = /^ENV (.*)$/m.exec(text)?.[1];
  if (!cmd || !envLine) throw new Error(`${dockerfile}: no exec-form CMD or no ENV line`);
  const argv = JSON.parse(cmd) as string[];
  const script = argv.indexOf("dist/server.js");
  if (argv[0] !== "node" || script < 0) throw new Error(`${dockerfile}: CMD is not node ... dist/server.js`);
  const env = Object.fromEntries(envLine.split(/\s+/).map((entry) => entry.split("=") as [string, string]));
  delete env.PORT;
  return { nodeArgs: argv.slice(1, script), env };
}
