// npm run bench:durability — what Redis's append-only file keeps when Redis is killed with SIGKILL
// under load, with `appendfsync everysec` and with `always`, and what `always` costs in throughput.
// Real processes on loopback: redis-server (AOF in a directory on this machine's disk), the compiled
// service, wrk. Per policy and run: a throughput run without a fault, then a run whose Redis is
// SIGKILLed halfway and started again on the same AOF. Lost = answers of 200 minus the counter after
// the restart. Policies alternate run by run; the figures are medians over the runs.
// Settings: BENCH_RUNS (3), BENCH_DURATION (10 s), BENCH_CONNECTIONS (50).
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RedisServer } from "../../test/support/redis-server";
import { buildService, ServiceProcess } from "../../test/support/service-process";
import { median } from "./stats";
import { wrk } from "./wrk";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const policies = ["everysec", "always"] as const;
type Policy = (typeof policies)[number];

interface Run {
  rps: number;
  p99: number;
  /** Answers of 200 in the run with the kill. */
  acknowledged: number;
  /** The counter after Redis came back on its AOF. */
  counted: number;
}

async function once(appendfsync: Policy): Promise<Run> {
  // Not tmpfs: `always` must pay for a real fsync.
  const dir = fs.mkdtempSync(path.join(os.homedir(), ".bench-durability-"));
  const redis = await RedisServer.start({ aof: { dir, appendfsync } });
  const service = await ServiceProcess.start({ REDIS_URL: redis.url }, { compiled: true });
  try {
    const steady = await wrk(`${service.url}/`, connections, duration);
    const before = Number(await redis.cli("GET", "hits"));
    const load = wrk(`${service.url}/`, connections, duration);
    await sleep((duration * 1000) / 2);
    await redis.kill();
    await redis.restart();
    const faulted = await load;
    await sleep(500);
    return { rps: steady.rps, p99: steady.p99, acknowledged: faulted.requests - faulted.failed, counted: Number(await redis.cli("GET", "hits")) - before };
  } finally {
    await service.stop();
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  buildService();
  const results: Record<Policy, Run[]> = { everysec: [], always: [] };
  for (let run = 0; run < runs; run++) {
    for (const policy of run % 2 ? [...policies].reverse() : policies) {
      const result = await once(policy);
      results[policy].push(result);
      console.log(`run ${run + 1} ${policy.padEnd(8)} ${Math.round(result.rps)} req/s, p99 ${result.p99} ms; kill -9: ${result.acknowledged} answered 200, counter ${result.counted}, lost ${Math.max(0, result.acknowledged - result.counted)}`);
    }
  }
  console.log(`\nmedians of ${runs} runs, ${duration} s each, ${connections} connections:`);
  const base = median(results.everysec.map((r) => r.rps));
  for (const policy of policies) {
    const rps = median(results[policy].map((r) => r.rps));
    const lost = results[policy].map((r) => Math.max(0, r.acknowledged - r.counted));
    console.log(
      `${policy.padEnd(8)} ${Math.round(rps)} req/s (${(rps / base).toFixed(2)}x everysec), p99 ${median(results[policy].map((r) => r.p99))} ms; acknowledged increments lost to kill -9: median ${median(lost)}, max ${Math.max(...lost)}`,
    );
  }
}

void main();
