// npm run bench:memory — the service's memory as the kubelet sees it: the compiled service runs as
// the image runs it (service/Dockerfile's CMD flags and ENV) inside a cgroup v1 memory group of its
// own with the pod's 256Mi limit, against a real redis-server, and the group's working set (usage
// less inactive file pages, what metrics-server and the HPA report) is read idle, during wrk load
// and after it, beside RSS, the kernel's split of the group's pages and V8's heap spaces.
//
// Variants compare changes in one run: BENCH_VARIANTS is a ";"-separated list, each a space-separated
// list of node flags (--max-semi-space-size=2) and environment entries (UV_THREADPOOL_SIZE=1) added
// to the image's; "" is the image as it is. All variants start together and idle together, then take
// the load one after the other, in an order rotated each run; each one's after-load readings run
// while the next one is loaded (that costs them CPU, not memory).
// The machine's load moves CPU per request between runs: compare variants by their medians over an
// odd number of runs, never one run's figures.
// Settings: BENCH_VARIANTS (""), BENCH_RUNS (1), BENCH_IDLE (10 s after start), BENCH_WARMUP (3 s of
// load before the measured load, so CPU per request is not the JIT's), BENCH_DURATION (20 s of
// measured load), BENCH_CONNECTIONS (50), BENCH_AFTER ("30,60": seconds after the load), BENCH_LIMIT
// (256M, the dev stack's memory limit), BENCH_CPU (unset: no CPU limit; millicores, e.g. 200 for the
// dev pod's limit, as a CFS quota: under it requests queue and live longer, which is what a young
// generation sized for an unthrottled process gets wrong).
import { setTimeout as sleep } from "node:timers/promises";
import { cpuLimit, createGroup, hasController, joinGroup, removeGroup } from "../../test/support/cgroup";
import { RedisServer } from "../../test/support/redis-server";
import { buildService, ServiceProcess } from "../../test/support/service-process";
import { imageCommand } from "./image-command";
import { type MemoryReading, readMemory } from "./memory-reading";
import { cpuTimeUs } from "./proc";
import { wholeNumber } from "./settings";
import { median } from "./stats";
import { wrk } from "./wrk";

const variants = (process.env.BENCH_VARIANTS ?? "").split(";").map((variant) => variant.trim());
const runs = Number(process.env.BENCH_RUNS ?? 1);
const idleSeconds = Number(process.env.BENCH_IDLE ?? 10);
const duration = Number(process.env.BENCH_DURATION ?? 20);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const afterSeconds = (process.env.BENCH_AFTER ?? "30,60").split(",").map(Number);
const memoryLimit = process.env.BENCH_LIMIT ?? "256M";
const cpuMillicores = process.env.BENCH_CPU ? wholeNumber(process.env.BENCH_CPU, 0, "BENCH_CPU", 64_000) : undefined;

/** What one variant's service did in one run. */
interface Run {
  idle: MemoryReading;
  /** The highest working set sampled each second under load, and the reading at its end. */
  peakMiB: number;
  loaded: MemoryReading;
  after: MemoryReading[];
  rps: number;
  cpuUs: number;
  p99: number;
  /** wrk's failed requests: reported, not fatal, since a stall of the machine times out a whole run's connections. */
  failed: number;
}

interface Started {
  service: ServiceProcess;
  /** The memory group, which readings read. */
  group: string;
  /** Every group made for it, the memory group first. */
  groups: string[];
}

interface Variant {
  name: string;
  nodeArgs: string[];
  env: Record<string, string>;
}

/** A variant's tokens on top of the image's command: flags go to node, NAME=value to the environment. */
function parseVariant(text: string): Variant {
  const image = imageCommand();
  const tokens = text.split(/\s+/).filter(Boolean);
  const env = { ...image.env };
  for (const token of tokens.filter((t) => !t.startsWith("--"))) {
    const [name, ...value] = token.split("=");
    if (value.length === 0) throw new Error(`BENCH_VARIANTS: ${JSON.stringify(token)} is neither --flag nor NAME=value`);
    env[name] = value.join("=");
  }
  return { name: text || "image as is", nodeArgs: [...image.nodeArgs, ...tokens.filter((t) => t.startsWith("--"))], env };
}

/** One service in its own memory group, with the pod's limit, started inside it; and in a CPU group with BENCH_CPU. */
async function startService(redis: RedisServer, variant: Variant, index: number): Promise<Started> {
  const name = `hitcounter-bench-memory-${process.pid}-${index}`;
  const group = createGroup("memory", name, { "memory.limit_in_bytes": memoryLimit });
  const groups = [group];
  try {
    if (cpuMillicores !== undefined) groups.push(createGroup("cpu", name, cpuLimit(cpuMillicores)));
    // By name, as in the cluster ("redis"): resolving it is what starts libuv's thread pool.
    const redisUrl = redis.url.replace("127.0.0.1", "localhost");
    const service = await ServiceProcess.start({ ...variant.env, REDIS_URL: redisUrl, LOG_LEVEL: "info" }, { compiled: true, nodeArgs: variant.nodeArgs, cgroup: group });
    // CPU time is charged where a thread runs, so joining after start leaves nothing behind.
    for (const cpuGroup of groups.slice(1)) joinGroup(cpuGroup, service.pid);
    return { service, group, groups };
  } catch (error) {
    groups.forEach(removeGroup);
    throw error;
  }
}

/** Warm-up and measured load, sampling the working set each second; then the after-load readings, returned unawaited. */
async function load(service: ServiceProcess, group: string): Promise<{ loaded: Omit<Run, "idle" | "after">; after: Promise<MemoryReading[]> }> {
  let peakMiB = 0;
  let loading = true;
  const sampler = (async () => {
    while (loading) {
      peakMiB = Math.max(peakMiB, (await readMemory(service, group)).workingSetMiB);
      await sleep(1000);
    }
  })();
  await wrk(`${service.url}/`, connections, warmup);
  const cpuBefore = cpuTimeUs(service.pid);
  const result = await wrk(`${service.url}/`, connections, duration);
  const cpuUs = (cpuTimeUs(service.pid) - cpuBefore) / result.requests;
  loading = false;
  await sampler;
  const loaded = await readMemory(service, group);
  const after = (async () => {
    const readings: MemoryReading[] = [];
    let waited = 0;
    for (const seconds of afterSeconds) {
      await sleep((seconds - waited) * 1000);
      waited = seconds;
      readings.push(await readMemory(service, group));
    }
    return readings;
  })();
  return { loaded: { peakMiB: Math.max(peakMiB, loaded.workingSetMiB), loaded, rps: result.rps, cpuUs, p99: result.p99, failed: result.failed }, after };
}

async function round(redis: RedisServer, all: Variant[], run: number): Promise<Run[]> {
  const started: Started[] = [];
  try {
    for (const [i, variant] of all.entries()) started.push(await startService(redis, variant, i));
    await sleep(idleSeconds * 1000);
    const idle = await Promise.all(started.map(({ service, group }) => readMemory(service, group)));
    // The first load after the idle wait ran slow whichever variant took it (80 µs of CPU per request
    // against 45-55 for the rest of the run), so every service is warmed before any is measured,
    // and the order is rotated each run.
    for (const { service } of started) await wrk(`${service.url}/`, connections, warmup);
    const order = [...all.keys()].map((i) => (i + run - 1) % all.length);
    const loads = new Map<number, { loaded: Omit<Run, "idle" | "after">; after: Promise<MemoryReading[]> }>();
    for (const i of order) {
      const result = await load(started[i].service, started[i].group);
      loads.set(i, result);
      console.log(`run ${run}  ${all[i].name}: ${result.loaded.rps.toFixed(0)} req/s, ${result.loaded.cpuUs.toFixed(1)} µs CPU/request, peak ${result.loaded.peakMiB.toFixed(1)} MiB`);
    }
    return await Promise.all(
      all.map(async (_, i) => {
        const { loaded, after } = loads.get(i) ?? unreachable();
        return { idle: idle[i], ...loaded, after: await after };
      }),
    );
  } finally {
    for (const { service, groups } of started) {
      await service.stop();
      groups.forEach(removeGroup);
    }
  }
}

function unreachable(): never {
  throw new Error("a variant was never loaded");
}

function report(variant: Variant, results: Run[]): void {
  const mib = (values: number[]) => `${median(values).toFixed(1)} MiB`;
  const last = results.at(-1) ?? unreachable();
  console.log(`\n== ${variant.name}  (node ${variant.nodeArgs.join(" ")} dist/server.js; ${Object.entries(variant.env).map(([k, v]) => `${k}=${v}`).join(" ")})`);
  console.log(`working set, medians of ${results.length} runs: idle ${mib(results.map((r) => r.idle.workingSetMiB))}, peak under load ${mib(results.map((r) => r.peakMiB))}, ` +
    `end of load ${mib(results.map((r) => r.loaded.workingSetMiB))}, ` +
    afterSeconds.map((s, i) => `${s} s after ${mib(results.map((r) => r.after[i].workingSetMiB))}`).join(", "));
  console.log(
    `load: ${median(results.map((r) => r.rps)).toFixed(0)} req/s, ${median(results.map((r) => r.cpuUs)).toFixed(1)} µs CPU/request, ` +
      `p99 ${median(results.map((r) => r.p99)).toFixed(2)} ms; failed requests per run: ${results.map((r) => r.failed).join(", ")}`,
  );
  console.log("breakdown (last run):");
  for (const [phase, reading] of [["idle", last.idle], ["end of load", last.loaded], ...afterSeconds.map((s, i) => [`${s} s after`, last.after[i]] as const)] as const) {
    console.log(`  ${phase.padEnd(12)} ${reading.summary}`);
  }
}

async function main(): Promise<void> {
  if (!hasController("memory")) throw new Error("no cgroup v1 memory controller at /sys/fs/cgroup/memory");
  if (cpuMillicores !== undefined && !hasController("cpu")) throw new Error("BENCH_CPU: no cgroup v1 cpu controller at /sys/fs/cgroup/cpu");
  buildService();
  const all = variants.map(parseVariant);
  console.log(`${all.length} variant(s) x ${runs} run(s): idle ${idleSeconds} s, wrk -t1 -c${connections} ${warmup} s + ${duration} s, readings ${afterSeconds.join(" and ")} s after; each in a ${memoryLimit} memory cgroup${cpuMillicores === undefined ? "" : ` and a ${cpuMillicores}m CPU quota`}`);
  const redis = await RedisServer.start();
  const results: Run[][] = all.map(() => []);
  try {
    for (let run = 1; run <= runs; run++) {
      (await round(redis, all, run)).forEach((result, i) => results[i].push(result));
    }
  } finally {
    await redis.stop();
  }
  all.forEach((variant, i) => report(variant, results[i]));
  if (all.length > 1) {
    const base = median(results[0].map((r) => r.cpuUs));
    console.log(`\nCPU per request against "${all[0].name}" in the same runs: ` + all.slice(1).map((v, i) => `${v.name} ${(median(results[i + 1].map((r) => r.cpuUs)) / base).toFixed(2)}x`).join(", "));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
