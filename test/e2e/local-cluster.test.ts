// The local cluster itself: kwok simulates only the nodes it made, so a real kubelet can join it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { eventually, LocalCluster } from "../support/local-cluster";
import { projectRoot } from "../support/paths";

const clusterScript = path.join(projectRoot, "scripts", "cluster", "cluster.sh");

/** The control plane's processes (apiserver, etcd, metrics-server, ...), as `scripts/cluster/cluster.sh status` lists them. */
function componentPids(component = ""): number[] {
  const status = execFileSync(clusterScript, ["status"], { encoding: "utf8" });
  return status
    .split("\n")
    .filter((l) => l.startsWith("process:") && l.includes(component))
    .map((l) => Number(l.split(/\s+/)[1]));
}

/** The program name of each control-plane process. */
function componentNames(): string[] {
  return componentPids().map((pid) => path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]));
}

function metricsServerPid(): number | undefined {
  return componentPids("metrics-server")[0];
}

/** Two busy loops per core at the tests' own priority, the way parallel builds load a CI machine. */
function busyMachine(): ChildProcess[] {
  return Array.from({ length: 2 * os.availableParallelism() }, () => spawn(process.execPath, ["-e", "for (;;);"], { stdio: "ignore" }));
}

describe("end to end: the local cluster", function () {
  this.timeout(60_000);
  const name = "not-a-kwok-node";
  let cluster: LocalCluster;

  before(() => {
    cluster = new LocalCluster();
  });

  after(async () => {
    await cluster?.core.deleteNode({ name }).catch(() => undefined);
  });

  it("kwok keeps its fake nodes Ready and leaves a node without its annotation alone", async function () {
    const { items } = await cluster.core.listNode();
    const fakes = items.filter((node) => node.metadata?.annotations?.["kwok.x-k8s.io/node"] === "fake");
    expect(fakes.map((node) => node.status?.conditions?.find((c) => c.type === "Ready")?.status)).to.deep.equal(["True", "True"]);

    await cluster.core.createNode({ body: { metadata: { name, labels: { "kubernetes.io/hostname": name } } } });
    // kwok's node heartbeat turns a managed node Ready within a second or two.
    await sleep(5_000);
    const node = await cluster.core.readNode({ name });
    expect(node.status?.conditions ?? []).to.deep.equal([]);
  });

  it("`cluster:up` starts again a metrics-server that died, and waits until the metrics API answers", async function () {
    this.timeout(300_000);
    const crashed = metricsServerPid();
    expect(crashed, "metrics-server running").to.be.a("number");
    process.kill(crashed as number, "SIGKILL");
    await eventually("metrics-server gone", async () => (metricsServerPid() === undefined ? true : undefined), { timeoutMs: 10_000, intervalMs: 500 });
    execFileSync(clusterScript, ["up"], { encoding: "utf8" });
    const restarted = metricsServerPid();
    expect(restarted, "metrics-server running again").to.be.a("number").and.not.equal(crashed);
    const usage = (await cluster.custom.listClusterCustomObject({ group: "metrics.k8s.io", version: "v1beta1", plural: "nodes" })) as { kind: string };
    expect(usage.kind).to.equal("NodeMetricsList");
  });

  // Last in the suite: it replaces the control plane, and with it everything the other files deployed.
  it("`cluster:up` replaces a crashed control plane and starts it whole while every core is busy", async function () {
    this.timeout(600_000);
    for (const pid of componentPids()) process.kill(pid, "SIGKILL");
    const busy = busyMachine();
    const started = performance.now();
    try {
      execFileSync(clusterScript, ["up"], { encoding: "utf8", timeout: 540_000, stdio: ["ignore", "pipe", "pipe"] });
    } finally {
      for (const loop of busy) loop.kill("SIGKILL");
    }
    console.log(`      cluster:up from nothing beside ${busy.length} busy loops: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const fresh = new LocalCluster();
    const { items } = await fresh.core.listNode();
    expect(items.map((node) => node.status?.conditions?.find((c) => c.type === "Ready")?.status)).to.deep.equal(["True", "True"]);
    expect(componentNames().sort()).to.deep.equal(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller", "metrics-server"]);
    // Answering is what the HPA needs; a node's usage comes once pods run on it.
    const usage = (await fresh.custom.listClusterCustomObject({ group: "metrics.k8s.io", version: "v1beta1", plural: "nodes" })) as { kind: string };
    expect(usage.kind).to.equal("NodeMetricsList");
  });
});
