// npm run bench:scaling [-- SIZES...] — the scaling curve on this machine: aggregate ok req/s and
// p99 latency of the dev stack's pod size (100m request, 200m limit) with 1, 2, 4 and 8 Ready pods on
// the local cluster's real node. The load is the stress tool's own engine (LoadRun), in this process,
// through the Service's NodePort on loopback. Prints the median (min–max) of RUNS runs per size and
// the ratio to the first size. Needs `npm run cluster:up -- --real`; deploys and removes a stack of
// its own, in a throwaway copy of the project (test/support/e2e-project.ts).
//   RUNS=3 SECONDS_PER_RUN=20 CONNECTIONS=64
import { LoadRun } from "../../stress/load/load-run";
import type { Totals } from "../../stress/load/series";
import { eventually, LocalCluster } from "../../test/support/local-cluster";
import { standInImages } from "../../test/support/standins";
import { E2eProject, type PulumiCli } from "../../test/support/e2e-project";
import { median, spread } from "./stats";

const stack = "scaling";
const namespace = "hitcounter-scaling";
const realNodeName = "hitcounter-node";
const backendSelector = "app.kubernetes.io/name=hit-counter,app.kubernetes.io/component=backend";

/** A whole number from 1 to `max`, or the exit names what was given and where. */
function count(text: string | undefined, fallback: number, name: string, max: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name}: "${text}" must be a whole number from 1 to ${max}`);
  }
  return value;
}

const settings = {
  sizes: process.argv.length > 2 ? process.argv.slice(2).map((size) => count(size, 1, "SIZES", 10)) : [1, 2, 4, 8],
  runs: count(process.env.RUNS, 3, "RUNS", 20),
  seconds: count(process.env.SECONDS_PER_RUN, 20, "SECONDS_PER_RUN", 300),
  connections: count(process.env.CONNECTIONS, 64, "CONNECTIONS", 1000),
};

async function readyPods(cluster: LocalCluster): Promise<number> {
  const { items } = await cluster.core.listNamespacedPod({ namespace, labelSelector: backendSelector });
  return items.filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
}

/** Fixed replicas, no HPA (both targets 0), a NodePort, no monitoring: only the backend's size varies. */
async function deployStack(cluster: LocalCluster, cli: PulumiCli, project: E2eProject): Promise<void> {
  const redisImage = await cluster.pushImage(standInImages().REDIS_IMAGE, "redis", "bookworm");
  await cli.run("login", `file://${project.state}`);
  await cli.run("stack", "init", stack);
  await cli.run("config", "set", "kubeContext", cluster.context);
  await cli.run("config", "set", "namespace", namespace);
  await cli.useLocalBuild(cluster.registry);
  await cli.run("config", "set", "redisImage", redisImage);
  await cli.run("config", "set", "serviceType", "NodePort");
  await cli.run("config", "set", "monitoringEnabled", "false");
  await cli.run("config", "set", "cpuTargetUtilization", "0");
  await cli.run("config", "set", "memoryTargetUtilization", "0");
}

/** `pulumi up` with `pods` replicas; returns the NodePort URL once exactly that many are Ready. */
async function resize(cluster: LocalCluster, cli: PulumiCli, pods: number): Promise<string> {
  await cli.run("config", "set", "minReplicas", String(pods));
  await cli.run("up", "--yes");
  await eventually(`${pods} Ready backend pods`, async () => ((await readyPods(cluster)) === pods ? true : undefined), { timeoutMs: 300_000 });
  const service = await cluster.core.readNamespacedService({ name: "hit-counter", namespace });
  return `http://127.0.0.1:${service.spec?.ports?.[0]?.nodePort}/`;
}

/** One run: a short warm-up in its own stage, then the `load` stage whose totals are the figures. */
async function measure(url: string): Promise<Totals> {
  const run = new LoadRun(
    {
      url,
      stages: [
        { name: "warm", seconds: 3, connections: 8 },
        { name: "load", seconds: settings.seconds, connections: settings.connections },
      ],
      maxRequests: 10_000_000,
      timeoutSeconds: 10,
      reconnectSeconds: 10,
    },
    { onStart: () => undefined, onBucket: () => undefined },
  );
  const result = await run.execute();
  if (!result.check?.exact) throw new Error(`the counter check failed at ${url}: ${result.checkError ?? JSON.stringify(result.check)}`);
  const load = result.stages.find((stage) => stage.stage === "load");
  if (!load || load.p99 === null) throw new Error(`no answer in the load stage at ${url}`);
  return load;
}

async function main(): Promise<void> {
  const cluster = new LocalCluster();
  const { items } = await cluster.core.listNode();
  if (!items.some((node) => node.metadata?.name === realNodeName)) {
    throw new Error(`no real node in the local cluster: run \`npm run cluster:up -- --real\` first`);
  }
  const project = E2eProject.create(cluster.kubeconfig);
  const cli = project.cli();
  try {
    await deployStack(cluster, cli, project);
    console.log(`${settings.runs} runs of ${settings.seconds} s x${settings.connections} connections per size\n`);
    console.log(`${"pods".padEnd(5)}  ${"ok req/s median (range)".padEnd(24)}  ${"p99 ms median (range)".padEnd(22)}  vs ${settings.sizes[0]} pod(s)`);
    let base: number | undefined;
    for (const pods of settings.sizes) {
      const url = await resize(cluster, cli, pods);
      const runs: Totals[] = [];
      for (let i = 0; i < settings.runs; i++) runs.push(await measure(url));
      const ok = runs.map((r) => r.okPerSecond);
      const p99 = runs.map((r) => r.p99 as number);
      base ??= median(ok);
      console.log(`${String(pods).padEnd(5)}  ${spread(ok, 0).padEnd(24)}  ${spread(p99, 1).padEnd(22)}  ${(median(ok) / base).toFixed(2)}x`);
    }
  } finally {
    await cli.run("destroy", "--yes", "--stack", stack).catch((error: Error) => console.error(`destroy failed: ${error.message}`));
    project.remove();
  }
}

main().catch((error: Error) => {
  console.error(`bench:scaling: ${error.message}`);
  process.exitCode = 1;
});
