// npm run bench:redis-ceiling — the single-key INCR ceiling: how many visits one Redis can count,
// whatever the number of backend pods. Every visit is an INCR of one key, and Redis runs commands
// on one thread, so one core of Redis bounds the whole service.
// Two measurements against one redis-server on loopback, RUNS rounds each:
//   - redis-benchmark's INCR of one key (50 clients; one command per round trip, then 16 pipelined):
//     Redis alone, the bound no client can pass;
//   - through the compiled service, 1 and then 2 processes, each under its own wrk: the req/s, the
//     Redis CPU time per INCR (from /proc/<pid>/stat) and the ceiling it implies, one core / that
//     time. node-redis pipelines the concurrent INCRs of a process on its one connection, so Redis
//     reads several per system call, which is why the implied ceiling lies between the two
//     redis-benchmark figures.
// Every run checks the counter: it moved by the pages served, plus at most the requests cut off at the end.
//   RUNS=3 SECONDS_PER_RUN=10 CONNECTIONS=50
import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { RedisServer } from "../../test/support/redis-server";
import { buildService, ServiceProcess } from "../../test/support/service-process";
import { cpuTimeUs } from "./proc";
import { wholeNumber } from "./settings";
import { median, spread } from "./stats";
import { wrk } from "./wrk";

const settings = {
  runs: wholeNumber(process.env.RUNS, 3, "RUNS", 20),
  seconds: wholeNumber(process.env.SECONDS_PER_RUN, 10, "SECONDS_PER_RUN", 300),
  connections: wholeNumber(process.env.CONNECTIONS, 50, "CONNECTIONS", 1000),
};
const key = "hits";

interface Reading {
  incrPerSecond: number;
  /** Redis's own CPU time per INCR, in microseconds. */
  redisUsPerIncr: number;
  /** The share of one core Redis used over the run. */
  redisCore: number;
}

/** Runs `load`, which returns how many INCRs it made, and what Redis spent on them. */
async function redisCost(redis: RedisServer, seconds: () => number, load: () => Promise<number>): Promise<Reading> {
  const before = cpuTimeUs(redis.pid);
  const incrs = await load();
  const redisUs = cpuTimeUs(redis.pid) - before;
  return { incrPerSecond: incrs / seconds(), redisUsPerIncr: redisUs / incrs, redisCore: redisUs / (seconds() * 1e6) };
}

/** redis-benchmark's INCR of the one key `counter:__rand_int__` (it varies the key only with -r). */
async function benchmarkRedis(redis: RedisServer, pipeline: number): Promise<Reading> {
  const requests = pipeline === 1 ? 300_000 : 2_000_000;
  let elapsed = 0;
  return redisCost(
    redis,
    () => elapsed,
    async () => {
      const started = process.hrtime.bigint();
      const { stdout } = await promisify(execFile)("redis-benchmark", ["-p", String(redis.port), "-t", "incr", "-n", String(requests), "-c", "50", "-P", String(pipeline), "-q"]);
      elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      if (!/INCR: [\d.]+ requests per second/.test(stdout)) throw new Error(`unexpected redis-benchmark report:\n${stdout}`);
      return requests;
    },
  );
}

/** Each service under its own wrk at once; fails on a failed request or a page the counter missed. */
async function throughServices(redis: RedisServer, services: ServiceProcess[]): Promise<Reading> {
  return redisCost(
    redis,
    () => settings.seconds,
    async () => {
      const counterBefore = Number(await redis.cli("GET", key));
      const results = await Promise.all(services.map((service) => wrk(`${service.url}/`, settings.connections, settings.seconds)));
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      if (failed > 0) throw new Error(`${failed} failed requests`);
      const served = results.reduce((sum, r) => sum + r.requests, 0);
      await sleep(500);
      // The counter, not wrk, says how many INCRs Redis ran: the requests cut off at the end too.
      const counted = Number(await redis.cli("GET", key)) - counterBefore;
      if (counted < served || counted > served + settings.connections * services.length) {
        throw new Error(`${served} pages served but the counter moved by ${counted}`);
      }
      return counted;
    },
  );
}

function report(label: string, readings: Reading[]): void {
  const ceiling = readings.map((r) => 1e6 / r.redisUsPerIncr);
  console.log(
    `${label.padEnd(36)} ${spread(readings.map((r) => r.incrPerSecond), 0).padEnd(24)} ${spread(readings.map((r) => r.redisUsPerIncr), 2).padEnd(20)} ` +
      `${spread(readings.map((r) => r.redisCore * 100), 0).padEnd(16)} ${spread(ceiling, 0)}`,
  );
}

async function main(): Promise<void> {
  buildService();
  const redis = await RedisServer.start();
  const services: ServiceProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) services.push(await ServiceProcess.start({ REDIS_URL: redis.url, COUNTER_KEY: key, LOG_LEVEL: "warn" }, { compiled: true }));
    // Warm V8's compiled code in both services before anything is measured.
    await Promise.all(services.map((service) => wrk(`${service.url}/`, settings.connections, 3)));

    const rows: [string, () => Promise<Reading>][] = [
      ["redis-benchmark, 1 per round trip", () => benchmarkRedis(redis, 1)],
      ["redis-benchmark, 16 pipelined", () => benchmarkRedis(redis, 16)],
      ["through 1 service process", () => throughServices(redis, services.slice(0, 1))],
      ["through 2 service processes", () => throughServices(redis, services)],
    ];
    const readings = new Map<string, Reading[]>(rows.map(([label]) => [label, []]));
    for (let run = 1; run <= settings.runs; run++) {
      for (const [label, measure] of rows) {
        const reading = await measure();
        readings.get(label)?.push(reading);
        console.log(`run ${run}  ${label.padEnd(36)} ${reading.incrPerSecond.toFixed(0).padStart(7)} INCR/s  ${reading.redisUsPerIncr.toFixed(2)} µs of Redis CPU each`);
      }
    }

    console.log(`\n${settings.runs} runs, ${settings.seconds} s and ${settings.connections} connections per service; medians (min–max):`);
    console.log(`${"".padEnd(36)} ${"INCR/s".padEnd(24)} ${"Redis µs/INCR".padEnd(20)} ${"Redis % core".padEnd(16)} implied ceiling INCR/s (one core)`);
    for (const [label, values] of readings) report(label, values);
    const ceiling = (label: string) => Math.round(median((readings.get(label) ?? []).map((r) => 1e6 / r.redisUsPerIncr))).toLocaleString("en");
    console.log(
      `\none core of Redis counts about ${ceiling("through 2 service processes")} INCR/s of one key at the batching 2 service processes make, ` +
        `${ceiling("redis-benchmark, 1 per round trip")} when every INCR is its own round trip (many lightly loaded pods); more backend pods raise neither`,
    );
  } finally {
    for (const service of services) await service.stop();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:redis-ceiling: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
