// npm run bench:redis-replication — what replication costs and buys, with the service finding the
// primary through Sentinel as in production. Real processes on loopback: a primary, two replicas and
// three sentinels (test/support/redis-sentinel.ts), the compiled service in sentinel mode held to 200m
// CPU (the dev pod's limit) by a cgroup v1 quota, load from autocannon (the stress tool's Load).
// Three configurations:
//   async   Redis' default: the primary answers before any replica has the write;
//   min-1   the primary also refuses writes unless a replica is connected with at most 10 s of lag
//           (min-replicas-to-write 1, min-replicas-max-lag 10);
//   wait-1  the service sends WAIT 1 after each INCR (REDIS_WAIT_REPLICAS=1).
// Per configuration and run, on a fresh set of Redis processes: full load (req/s, the service's CPU
// time per request), then a failover run: RATE req/s, the primary SIGKILLed after 2 s, counting
// failed requests, the time from the kill to the last failure, and acknowledged increments lost
// (answers of 2xx minus the counter's growth, and 2xx values handed out twice: the new primary
// counting again from a value that was already answered). Configurations alternate run by run.
//   BENCH_RUNS=3 BENCH_SECONDS=5 BENCH_CONNECTIONS=50 BENCH_RATE=500
import { setTimeout as sleep } from "node:timers/promises";
import { Load } from "../../stress/load/load";
import { LoadRun } from "../../stress/load/load-run";
import type { Visit } from "../../stress/load/page";
import { Recorder } from "../../stress/load/recorder";
import { cpuLimit, createGroup, hasController, removeGroup } from "../../test/support/cgroup";
import { ReplicatedRedis } from "../../test/support/redis-sentinel";
import { buildService, ServiceProcess } from "../../test/support/service-process";
import { cpuTimeUs } from "./proc";
import { wholeNumber } from "./settings";
import { median, spread } from "./stats";

const settings = {
  runs: wholeNumber(process.env.BENCH_RUNS, 3, "BENCH_RUNS", 20),
  seconds: wholeNumber(process.env.BENCH_SECONDS, 5, "BENCH_SECONDS", 300),
  connections: wholeNumber(process.env.BENCH_CONNECTIONS, 50, "BENCH_CONNECTIONS", 1000),
  rate: wholeNumber(process.env.BENCH_RATE, 500, "BENCH_RATE", 5000),
};
const password = "bench-password";
const cpuLimitMillicores = 200;
// The failover run: the kill comes after killAfterSeconds; recovery measured to 3-4 s on loopback.
const failoverSeconds = 12;
const killAfterSeconds = 2;

interface Configuration {
  name: string;
  nodeArgs: string[];
  env: Record<string, string>;
}

const configurations: Configuration[] = [
  { name: "async", nodeArgs: [], env: {} },
  { name: "min-1", nodeArgs: ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"], env: {} },
  { name: "wait-1", nodeArgs: [], env: { REDIS_WAIT_REPLICAS: "1" } },
];

interface Reading {
  okPerSecond: number;
  cpuUsPerRequest: number;
  /** Requests of the failover run without a 2xx answer. */
  failed: number;
  /** From the kill to the last failed request, in seconds. */
  recoverySeconds: number;
  /** 2xx answers minus the counter's growth over the failover run (0 when it grew more). */
  lost: number;
  /** 2xx answers whose value another 2xx answer had too. */
  repeated: number;
}

/** The stress tool's recorder, also keeping when the last failure came and every value answered. */
class FailoverRecorder extends Recorder {
  lastFailureAt = 0;
  readonly values: number[] = [];

  override answer(status: number, latencyMs: number): void {
    super.answer(status, latencyMs);
    if (status < 200 || status >= 300) this.lastFailureAt = performance.now();
  }

  override failure(kind: string): void {
    super.failure(kind);
    this.lastFailureAt = performance.now();
  }

  override visit(visit: Visit): void {
    super.visit(visit);
    this.values.push(visit.hits);
  }
}

/** Full load for `seconds`: ok req/s and the service's CPU per request; fails unless every answer was 2xx and the counter moved exactly. */
async function fullLoad(service: ServiceProcess, seconds: number): Promise<Pick<Reading, "okPerSecond" | "cpuUsPerRequest">> {
  const run = new LoadRun(
    { url: `${service.url}/`, stages: [{ name: "full", seconds, connections: settings.connections }], maxRequests: 10_000_000, timeoutSeconds: 10, reconnectSeconds: seconds },
    { onStart: () => undefined, onBucket: () => undefined },
  );
  const cpuBefore = cpuTimeUs(service.pid);
  const result = await run.execute();
  const load = result.stages[0];
  if (!result.check?.exact) throw new Error(`the counter check failed: ${result.checkError ?? JSON.stringify(result.check)}`);
  if (load.ok !== load.answered) throw new Error(`${load.answered - load.ok} failed of ${load.answered}: ${JSON.stringify(load.errors)}`);
  return { okPerSecond: load.okPerSecond, cpuUsPerRequest: (cpuTimeUs(service.pid) - cpuBefore) / load.ok };
}

/** RATE req/s, the primary SIGKILLed after killAfterSeconds. */
async function failover(redis: ReplicatedRedis, service: ServiceProcess): Promise<Pick<Reading, "failed" | "recoverySeconds" | "lost" | "repeated">> {
  const primary = await redis.primary();
  const before = Number(await primary.cli("GET", "hits"));
  const recorder = new FailoverRecorder(() => undefined);
  const plan = { url: `${service.url}/`, stages: [{ name: "failover", seconds: failoverSeconds, connections: 20, rate: settings.rate }], maxRequests: 10_000_000, timeoutSeconds: 5, reconnectSeconds: failoverSeconds };
  const load = new Load(plan, recorder).run();
  await sleep(killAfterSeconds * 1000);
  const killedAt = performance.now();
  await primary.kill();
  await load;
  const { total } = recorder.totals();
  const newPrimary = await redis.primary();
  if (newPrimary === primary) throw new Error(`no failover within ${failoverSeconds - killAfterSeconds} s`);
  const growth = Number(await newPrimary.cli("GET", "hits")) - before;
  return {
    failed: total.sent - total.ok,
    recoverySeconds: recorder.lastFailureAt > killedAt ? (recorder.lastFailureAt - killedAt) / 1000 : 0,
    lost: Math.max(0, total.ok - growth),
    repeated: recorder.values.length - new Set(recorder.values).size,
  };
}

async function once(configuration: Configuration, cpuGroup: string | undefined): Promise<Reading> {
  const redis = await ReplicatedRedis.start({ password, nodeArgs: configuration.nodeArgs });
  let service: ServiceProcess | undefined;
  try {
    const env = { REDIS_SENTINELS: redis.sentinelList, REDIS_PASSWORD: password, ...configuration.env };
    service = await ServiceProcess.start(env, { compiled: true, cgroup: cpuGroup });
    // Warms V8's compiled code before anything is measured.
    await fullLoad(service, 2);
    const full = await fullLoad(service, settings.seconds);
    return { ...full, ...(await failover(redis, service)) };
  } finally {
    await service?.stop();
    await redis.stop();
  }
}

function row(name: string, readings: Reading[], base: Reading[]): string {
  const ratio = (pick: (r: Reading) => number) => (median(readings.map(pick)) / median(base.map(pick))).toFixed(2);
  return (
    `${name.padEnd(8)} ${spread(readings.map((r) => r.okPerSecond), 0).padEnd(18)} ${`${ratio((r) => r.okPerSecond)}x`.padEnd(8)} ` +
    `${spread(readings.map((r) => r.cpuUsPerRequest), 0).padEnd(18)} ${`${ratio((r) => r.cpuUsPerRequest)}x`.padEnd(8)} ` +
    `${spread(readings.map((r) => r.failed), 0).padEnd(18)} ${spread(readings.map((r) => r.recoverySeconds), 1).padEnd(18)} ` +
    `${spread(readings.map((r) => r.lost), 0).padEnd(12)} ${spread(readings.map((r) => r.repeated), 0)}`
  );
}

async function main(): Promise<void> {
  buildService();
  const cpuGroup = hasController("cpu") ? createGroup("cpu", `hitcounter-bench-replication-${process.pid}`, cpuLimit(cpuLimitMillicores)) : undefined;
  const limit = cpuGroup ? `${cpuLimitMillicores}m CPU (cgroup v1 quota)` : "no CPU limit (no cgroup v1 cpu controller)";
  try {
    const readings = new Map<Configuration, Reading[]>(configurations.map((configuration) => [configuration, []]));
    for (let run = 1; run <= settings.runs; run++) {
      for (const configuration of run % 2 ? configurations : [...configurations].reverse()) {
        const r = await once(configuration, cpuGroup);
        readings.get(configuration)?.push(r);
        console.log(
          `run ${run} ${configuration.name.padEnd(7)} ${r.okPerSecond.toFixed(0).padStart(5)} req/s, ${r.cpuUsPerRequest.toFixed(0)} µs CPU/request; ` +
            `kill -9 of the primary at ${settings.rate} req/s: ${r.failed} failed, all 2xx again after ${r.recoverySeconds.toFixed(1)} s, ` +
            `acknowledged increments lost ${r.lost}, values repeated ${r.repeated}`,
        );
      }
    }
    console.log(
      `\n${settings.runs} runs; service in sentinel mode at ${limit}; full load: ${settings.connections} connections for ${settings.seconds} s; ` +
        `failover: ${settings.rate} req/s on 20 connections, the primary SIGKILLed after ${killAfterSeconds} s; medians (min–max), ratios of medians to async`,
    );
    console.log(
      `${"".padEnd(8)} ${"ok req/s".padEnd(18)} ${"ratio".padEnd(8)} ${"CPU µs/request".padEnd(18)} ${"ratio".padEnd(8)} ${"failed requests".padEnd(18)} ` +
        `${"all 2xx after s".padEnd(18)} ${"acked lost".padEnd(12)} values repeated`,
    );
    const base = readings.get(configurations[0]) ?? [];
    for (const [configuration, values] of readings) console.log(row(configuration.name, values, base));
  } finally {
    if (cpuGroup) removeGroup(cpuGroup);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:redis-replication: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
