// npm run bench:profile — where the service's CPU goes under load: the compiled service runs with
// `node --cpu-prof` against a real Redis while wrk drives GET /, then the profile's samples are summed
// by package (koa, @koa/router, prom-client, pino, redis, Node itself, the service's own code) and by
// function. Settings: BENCH_DURATION (10 s), BENCH_CONNECTIONS (50).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RedisServer } from "../../test/support/redis-server";
import { buildService, ServiceProcess } from "../../test/support/service-process";
import { wrk } from "./wrk";

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds between samples; the first is from startTime. */
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The package a script belongs to (node_modules/<name> or @scope/name), "service" or "node". */
function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.includes("/service/dist/")) return "service";
  return url.startsWith("node:") ? "node" : url === "" ? "(native, gc, idle)" : url;
}

function top(counts: Map<string, number>, total: number, n: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, count]) => `${((count / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
}

async function main(): Promise<void> {
  buildService();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hitcounter-profile-"));
  const redis = await RedisServer.start();
  const service = await ServiceProcess.start(
    { REDIS_URL: redis.url, LOG_LEVEL: "info" },
    { compiled: true, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] },
  );
  try {
    await wrk(`${service.url}/`, connections, 2);
    const load = await wrk(`${service.url}/`, connections, duration);
    console.log(`${load.rps.toFixed(0)} req/s during the profile (wrk -t1 -c${connections}, ${duration} s)`);
  } finally {
    await service.stop();
    await redis.stop();
  }
  const file = fs.readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`node wrote no .cpuprofile into ${dir}`);
  const profile = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  // Only the measured load: the service stops right after it, so that is the profile's last
  // `duration` seconds; start-up (module loading) and idle time are left out.
  const loadStart = profile.endTime - duration * 1e6;
  let time = profile.startTime;
  let total = 0;
  for (const [i, id] of profile.samples.entries()) {
    time += profile.timeDeltas[i];
    const frame = byId.get(id)?.callFrame;
    if (!frame || time < loadStart || frame.functionName === "(idle)") continue;
    total++;
    const pkg = packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1);
    const fn = `${frame.functionName || "(anonymous)"}  ${pkg}${frame.url && !frame.url.startsWith("node:") ? `:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + 1);
  }
  console.log(`\nbusy self time by package (${total} samples):`);
  console.log(top(byPackage, total, 12).join("\n"));
  console.log("\nbusy self time by function:");
  console.log(top(byFunction, total, 25).join("\n"));
  console.log(`\nprofile: ${path.join(dir, file)} (open it in Chrome DevTools' Performance panel)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
