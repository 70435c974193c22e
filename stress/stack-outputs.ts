// Defaults from the deployed Pulumi stack (`pulumi stack output`), so `npm run stress` needs no
// flags after `pulumi up`.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { StackOutputs } from "../components/program";
import { OptionsError } from "./options";

/** The program's outputs as `pulumi stack output --json` prints them: the values, those this tool reads. */
export type PrintedOutputs = Partial<Record<keyof Pick<StackOutputs, "appUrl" | "appPortForward" | "namespace" | "hpaName">, string>>;

export async function readStackOutputs(stack: string | undefined, pulumi = "pulumi"): Promise<PrintedOutputs> {
  const args = ["stack", "output", "--json", ...(stack ? ["--stack", stack] : [])];
  try {
    const { stdout } = await promisify(execFile)(pulumi, args, { timeout: 60_000 });
    return JSON.parse(stdout) as PrintedOutputs;
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") {
      throw new OptionsError("no --url given and the pulumi CLI is not on PATH to read the stack's appUrl: pass --url http://...");
    }
    throw new OptionsError(`no --url given and \`pulumi ${args.join(" ")}\` failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** The stack's appUrl when it is a usable URL; otherwise an error that says how to get one. */
export function appUrlOf(outputs: PrintedOutputs): string {
  const url = outputs.appUrl ?? "";
  if (/^https?:\/\/[^\s<>]+$/.test(url)) return url;
  const forward = outputs.appPortForward
    ? `run \`${outputs.appPortForward}\` and pass --url http://localhost:8080`
    : "pass --url";
  throw new OptionsError(`the stack's appUrl is "${url}", not a URL this machine can load: ${forward}, or use --in-cluster`);
}
