// npm run bench:service — throughput and latency of the counter service against a real Redis on
// loopback, beside a bare node:http + node-redis server doing the same INCR, in the same run; then
// one service process held to 200m CPU (the lecture's pod limit) with a cgroup v1 quota.
// Settings: BENCH_RUNS (5), BENCH_DURATION (10 s), BENCH_CONNECTIONS (50), BENCH_WARMUP (3 s).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { freePort, waitForPort } from "../test/support/net";
import { RedisServer } from "../test/support/redis";
import { ServiceProcess } from "../test/support/service";

const root = path.resolve(__dirname, "..");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const warmup = Number(process.env.BENCH_WARMUP ?? 3);
// 200m = 20 ms of CPU time in every 100 ms period.
const cpuQuota = { quotaUs: 20_000, periodUs: 100_000 };
const cgroupV1 = "/sys/fs/cgroup/cpu";

interface Measurement {
  rps: number;
  /** CPU time the server process spent per request, in microseconds: unlike req/s, barely moved by other load on the machine. */
  cpuUs: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
}

interface Target {
  name: string;
  url: string;
  pid: number;
}

/** User + system CPU time of a process so far, in microseconds (/proc/PID/stat, in clock ticks of 10 ms). */
function cpuTimeUs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat(5); after the ") " split, fields 12 and 13 here.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function load(target: Target, seconds: number): Promise<Measurement> {
  const cpuBefore = cpuTimeUs(target.pid);
  const result = await autocannon({ url: `${target.url}/`, connections, duration: seconds });
  return {
    rps: result.requests.average,
    cpuUs: (cpuTimeUs(target.pid) - cpuBefore) / result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * One measured run; fails the benchmark if any response was not a 2xx or a served page is missing
 * from the counter. autocannon abandons the requests in flight when the time is up: those may
 * still increment, so the counter may lead the 2xx count by at most one request per connection.
 */
async function measure(redis: RedisServer, target: Target, seconds: number): Promise<Measurement> {
  const before = Number(await redis.cli("GET", "hits"));
  const measurement = await load(target, seconds);
  // Let the abandoned requests land before reading the counter.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const counted = Number(await redis.cli("GET", "hits")) - before;
  if (measurement.failed > 0) throw new Error(`${target.name}: ${measurement.failed} failed requests`);
  if (counted < measurement.ok || counted > measurement.ok + connections) {
    throw new Error(`${target.name}: ${measurement.ok} pages served but the counter moved by ${counted}`);
  }
  return measurement;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function summary(name: string, measurements: Measurement[]): string {
  const rps = median(measurements.map((m) => m.rps));
  const p50 = median(measurements.map((m) => m.p50));
  const p99 = median(measurements.map((m) => m.p99));
  const cpuUs = median(measurements.map((m) => m.cpuUs));
  return (
    `${name.padEnd(26)} ${rps.toFixed(0).padStart(8)} req/s   p50 ${p50.toFixed(1)} ms   p99 ${p99.toFixed(1)} ms` +
    `   ${cpuUs.toFixed(0)} µs CPU/request`
  );
}

async function startBare(redis: RedisServer): Promise<{ target: Target; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/bench/bare-counter.ts")], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), REDIS_URL: redis.url },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForPort(port, 20_000);
  if (child.pid === undefined) throw new Error("bare server did not start");
  return { target: { name: "bare node:http + node-redis", url: `http://127.0.0.1:${port}`, pid: child.pid }, child };
}

/** Runs `body` with `pid` in a cgroup v1 CPU group limited to the quota, then moves it back out. */
async function withCpuQuota<T>(pid: number, body: () => Promise<T>): Promise<T> {
  const group = path.join(cgroupV1, `hitcounter-bench-${process.pid}`);
  fs.mkdirSync(group);
  try {
    fs.writeFileSync(path.join(group, "cpu.cfs_period_us"), String(cpuQuota.periodUs));
    fs.writeFileSync(path.join(group, "cpu.cfs_quota_us"), String(cpuQuota.quotaUs));
    fs.writeFileSync(path.join(group, "cgroup.procs"), String(pid));
    return await body();
  } finally {
    fs.writeFileSync(path.join(cgroupV1, "cgroup.procs"), String(pid));
    fs.rmdirSync(group);
  }
}

async function main(): Promise<void> {
  console.log(`building the service (service/dist)`);
  execFileSync("npm", ["run", "build", "--silent", "--prefix", "service"], { cwd: root, stdio: "inherit" });
  console.log(`${runs} runs x ${duration} s, ${connections} connections, loopback; warm-up ${warmup} s each\n`);

  const redis = await RedisServer.start();
  const service = await ServiceProcess.start({ REDIS_URL: redis.url, LOG_LEVEL: "info" }, { compiled: true });
  const bare = await startBare(redis);
  const targets: Target[] = [{ name: "service (koa)", url: service.url, pid: service.pid }, bare.target];
  try {
    for (const target of targets) await measure(redis, target, warmup);
    const results = new Map<Target, Measurement[]>(targets.map((target) => [target, []]));
    for (let run = 1; run <= runs; run++) {
      // Alternate who goes first, so a drift in machine load does not favour one of them.
      const order = run % 2 ? targets : [...targets].reverse();
      for (const target of order) {
        const measurement = await measure(redis, target, duration);
        results.get(target)?.push(measurement);
        console.log(
          `run ${run}  ${target.name.padEnd(26)} ${measurement.rps.toFixed(0).padStart(8)} req/s` +
            `   ${measurement.cpuUs.toFixed(0)} µs CPU/request`,
        );
      }
    }

    console.log("\nmedians:");
    for (const target of targets) console.log(summary(target.name, results.get(target) ?? []));
    const medianOf = (target: Target, metric: (m: Measurement) => number) =>
      median((results.get(target) ?? []).map(metric));
    const ratio = medianOf(targets[0], (m) => m.rps) / medianOf(targets[1], (m) => m.rps);
    const cpuRatio = medianOf(targets[1], (m) => m.cpuUs) / medianOf(targets[0], (m) => m.cpuUs);
    console.log(`ratio service / bare: ${ratio.toFixed(2)} req/s (target >= 0.80), ${cpuRatio.toFixed(2)} requests per CPU-second`);
    console.log("no lost increments: in every run the counter moved by the 2xx count (+ at most the requests cut off at the end)");

    if (fs.existsSync(path.join(cgroupV1, "cpu.cfs_quota_us"))) {
      const limited: Measurement[] = [];
      await withCpuQuota(service.pid, async () => {
        for (let run = 1; run <= runs; run++) limited.push(await measure(redis, targets[0], duration));
      });
      console.log(`\n${summary("service at 200m CPU", limited)}`);
    } else {
      console.log(`\nno cgroup v1 cpu controller at ${cgroupV1}: 200m CPU run skipped`);
    }
    if (ratio < 0.8) process.exitCode = 1;
  } finally {
    bare.child.kill("SIGTERM");
    await service.stop();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
