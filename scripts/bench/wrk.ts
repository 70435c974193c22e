// Load from wrk (Debian's package): a C client on one thread, so on two cores it stays far from
// saturated while a Node server is (the bench prints the share of a core it used to show it).
import { spawn } from "node:child_process";
import { exitedChildrenCpuUs } from "./proc";

export interface WrkResult {
  requests: number;
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  failed: number;
  /** CPU wrk itself used, as a share of one core over the run. */
  clientCore: number;
}

/** Runs `wrk -t1 -c<connections> -d<seconds>s --latency url` and parses its report. */
export async function wrk(url: string, connections: number, seconds: number): Promise<WrkResult> {
  const child = spawn("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url], { stdio: ["ignore", "pipe", "pipe"] });
  // wrk is the only child that exits meanwhile, so the growth of the exited children's CPU time is its own.
  const childrenCpuBefore = exitedChildrenCpuUs();
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new Error("wrk not found on PATH: apt-get install wrk") : error),
    );
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`wrk exited ${code}:\n${out}`);
  return { ...parse(out), clientCore: (exitedChildrenCpuUs() - childrenCpuBefore) / (seconds * 1e6) };
}

function parse(report: string): Omit<WrkResult, "clientCore"> {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(report);
    if (!match) throw new Error(`unexpected wrk report (no ${pattern}):\n${report}`);
    return Number(match[1]);
  };
  const latencyMs = (percentile: string) => {
    // wrk pads the value, so a line may end in spaces.
    const match = new RegExp(`^\\s+${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(report);
    if (!match) throw new Error(`unexpected wrk report (no ${percentile}% latency):\n${report}`);
    return Number(match[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as "us" | "ms" | "s" | "m"];
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  return {
    requests: number(/(\d+) requests in/),
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p50: latencyMs("50"),
    p99: latencyMs("99"),
    failed:
      (/Non-2xx or 3xx responses: (\d+)/.exec(report)?.slice(1).map(Number)[0] ?? 0) +
      (socketErrors?.slice(1).reduce((sum, n) => sum + Number(n), 0) ?? 0),
  };
}
