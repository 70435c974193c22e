// npm run bench:pod — one backend pod's own efficiency on the real node, against the same compiled
// service on loopback held to the same limits (a 200m cgroup v1 CFS quota and a 256Mi memory group,
// which V8 sizes its heap from), in the same run and through
// the same client (the stress tool's LoadRun). For each: the ok req/s at the limit, the process's CPU
// time per request (its /proc/<pid>/stat, every thread), the share of CFS periods throttled, and at
// a fixed RATE req/s the CPU per request again, from which follows the req/s at which one pod crosses
// the HPA's CPU target (50 % of the 100m request: 50m). Needs `npm run cluster:up -- --real`; deploys
// and removes a stack of its own (scripts/bench/bench-stack.ts).
//   RUNS=3 SECONDS_PER_RUN=20 CONNECTIONS=64 RATE=200
import fs from "node:fs";
import { CounterApp } from "../../components/counter-app";
import { LoadRun } from "../../stress/load/load-run";
import { cpuLimit, createGroup, joinGroup, removeGroup } from "../../test/support/cgroup";
import { RedisServer } from "../../test/support/redis-server";
import { buildService, ServiceProcess } from "../../test/support/service-process";
import { BenchStack } from "./bench-stack";
import { imageCommand } from "./image-command";
import { cpuTimeUs } from "./proc";
import { wholeNumber } from "./settings";
import { median, spread } from "./stats";

const settings = {
  runs: wholeNumber(process.env.RUNS, 3, "RUNS", 20),
  seconds: wholeNumber(process.env.SECONDS_PER_RUN, 20, "SECONDS_PER_RUN", 300),
  connections: wholeNumber(process.env.CONNECTIONS, 64, "CONNECTIONS", 1000),
  rate: wholeNumber(process.env.RATE, 200, "RATE", 5000),
};
// The dev stack's defaults (Pulumi.yaml): 100m request, 200m limit, CPU target 50 %.
const cpuTargetCores = 0.1 * 0.5;
const cpuLimitMillicores = 200;
const memoryLimit = "256M";

/** A server under test: its URL, the pids whose CPU time is its own, and its CFS group. */
interface Target {
  name: string;
  url: string;
  pids: () => number[];
  cpuGroup: string;
}

interface Reading {
  okPerSecond: number;
  cpuUsPerRequest: number;
  /** Share of the CFS periods in which the group hit its quota. */
  throttled: number;
  p99: number;
}

function cpuStat(group: string): { periods: number; throttled: number } {
  const text = fs.readFileSync(`${group}/cpu.stat`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return { periods: field("nr_periods"), throttled: field("nr_throttled") };
}

/** One LoadRun stage against `target`; fails unless every answer was a 2xx and the counter moved exactly. */
async function measure(target: Target, stage: { seconds: number; connections: number; rate?: number }): Promise<Reading> {
  const run = new LoadRun(
    { url: target.url, stages: [{ name: "load", ...stage }], maxRequests: 10_000_000, timeoutSeconds: 10, reconnectSeconds: 10 },
    { onStart: () => undefined, onBucket: () => undefined },
  );
  const cpu = () => target.pids().reduce((sum, pid) => sum + cpuTimeUs(pid), 0);
  const [cpuBefore, statBefore] = [cpu(), cpuStat(target.cpuGroup)];
  const result = await run.execute();
  const [cpuAfter, statAfter] = [cpu(), cpuStat(target.cpuGroup)];
  if (!result.check?.exact) throw new Error(`${target.name}: the counter check failed: ${result.checkError ?? JSON.stringify(result.check)}`);
  const load = result.stages[0];
  if (load.ok !== load.answered || load.p99 === null) throw new Error(`${target.name}: ${load.answered - load.ok} failed of ${load.answered}`);
  return {
    okPerSecond: load.okPerSecond,
    cpuUsPerRequest: (cpuAfter - cpuBefore) / load.ok,
    throttled: (statAfter.throttled - statBefore.throttled) / Math.max(1, statAfter.periods - statBefore.periods),
    p99: load.p99,
  };
}

/** The backend container's CFS group and processes, found by the cgroup the kubelet made for it. */
async function podTarget(bench: BenchStack, url: string): Promise<Target> {
  const [{ name }] = await bench.readyPods();
  const pod = await bench.cluster.core.readNamespacedPod({ name, namespace: bench.namespace });
  const id = pod.status?.containerStatuses?.find((c) => c.name === CounterApp.containerName)?.containerID?.replace(/^\w+:\/\//, "");
  const [group] = id ? fs.globSync(`/sys/fs/cgroup/cpu/kubepods/**/pod${pod.metadata?.uid}/${id}`) : [];
  if (!group) throw new Error(`no CFS group for the ${CounterApp.containerName} container of pod ${name} under /sys/fs/cgroup/cpu/kubepods`);
  const pids = () => fs.readFileSync(`${group}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  return { name: "pod on the real node (NodePort)", url, pids, cpuGroup: group };
}

function row(name: string, limit: Reading[], rated: Reading[]): string {
  const crossing = rated.map((r) => (cpuTargetCores * 1e6) / r.cpuUsPerRequest);
  return (
    `${name.padEnd(34)} ${spread(limit.map((r) => r.okPerSecond), 0).padEnd(22)} ${spread(limit.map((r) => r.cpuUsPerRequest), 1).padEnd(20)} ` +
    `${spread(limit.map((r) => r.throttled * 100), 0).padEnd(14)} ${spread(limit.map((r) => r.p99), 1).padEnd(20)} ` +
    `${spread(rated.map((r) => r.cpuUsPerRequest), 1).padEnd(20)} ${spread(crossing, 0)}`
  );
}

async function main(): Promise<void> {
  buildService();
  const bench = await BenchStack.create("pod", "hitcounter-pod");
  const redis = await RedisServer.start();
  const group = createGroup("cpu", `hitcounter-bench-pod-${process.pid}`, cpuLimit(cpuLimitMillicores));
  const memoryGroup = createGroup("memory", `hitcounter-bench-pod-${process.pid}`, { "memory.limit_in_bytes": memoryLimit });
  let service: ServiceProcess | undefined;
  try {
    const podUrl = await bench.resize(1);
    const image = imageCommand();
    service = await ServiceProcess.start({ ...image.env, REDIS_URL: redis.url, LOG_LEVEL: "info" }, { compiled: true, nodeArgs: image.nodeArgs, cgroup: memoryGroup });
    joinGroup(group, service.pid);
    const local = service;
    const targets: Target[] = [
      await podTarget(bench, podUrl),
      { name: "service on loopback, 200m, 256Mi", url: `${local.url}/`, pids: () => [local.pid], cpuGroup: group },
    ];
    const readings = new Map(targets.map((target) => [target, { limit: [] as Reading[], rated: [] as Reading[] }]));
    for (const target of targets) await measure(target, { seconds: 5, connections: 8 });
    for (let run = 1; run <= settings.runs; run++) {
      for (const target of run % 2 ? targets : [...targets].reverse()) {
        const limit = await measure(target, { seconds: settings.seconds, connections: settings.connections });
        const rated = await measure(target, { seconds: settings.seconds, connections: 8, rate: settings.rate });
        readings.get(target)?.limit.push(limit);
        readings.get(target)?.rated.push(rated);
        console.log(
          `run ${run}  ${target.name.padEnd(34)} ${limit.okPerSecond.toFixed(0).padStart(6)} req/s at the limit, ${limit.cpuUsPerRequest.toFixed(1)} µs CPU/request, ` +
            `${(limit.throttled * 100).toFixed(0)} % of periods throttled; at ${settings.rate} req/s ${rated.cpuUsPerRequest.toFixed(1)} µs CPU/request`,
        );
      }
    }

    console.log(`\n${settings.runs} runs; the limit: ${settings.connections} connections for ${settings.seconds} s; the rate: ${settings.rate} req/s on 8 connections; medians (min–max)`);
    console.log(
      `${"".padEnd(34)} ${"ok req/s at 200m".padEnd(22)} ${"CPU µs/request".padEnd(20)} ${"throttled %".padEnd(14)} ${"p99 ms".padEnd(20)} ` +
        `${`CPU µs/req at ${settings.rate}/s`.padEnd(20)} req/s at the 50m target`,
    );
    for (const [target, { limit, rated }] of readings) console.log(row(target.name, limit, rated));
    const [pod, loopback] = [...readings.values()];
    const ratio = (pick: (r: Reading) => number, set: "limit" | "rated") => median(pod[set].map(pick)) / median(loopback[set].map(pick));
    console.log(
      `pod / loopback: req/s at the limit ${ratio((r) => r.okPerSecond, "limit").toFixed(2)}x, CPU per request ${ratio((r) => r.cpuUsPerRequest, "limit").toFixed(2)}x at the limit ` +
        `and ${ratio((r) => r.cpuUsPerRequest, "rated").toFixed(2)}x at ${settings.rate} req/s`,
    );
  } finally {
    await service?.stop();
    await redis.stop();
    removeGroup(group);
    removeGroup(memoryGroup);
    await bench.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:pod: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
