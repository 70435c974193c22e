// The local cluster itself: kwok simulates only the nodes it made, so a real kubelet can join it.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { eventually, LocalCluster } from "../support/local-cluster";
import { projectRoot } from "../support/paths";

/** The metrics-server process of the local cluster, as `scripts/cluster.sh status` lists it. */
function metricsServerPid(): number | undefined {
  const status = execFileSync(path.join(projectRoot, "scripts", "cluster.sh"), ["status"], { encoding: "utf8" });
  const line = status.split("\n").find((l) => l.startsWith("process:") && l.includes("metrics-server"));
  return line ? Number(line.split(/\s+/)[1]) : undefined;
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
    execFileSync(path.join(projectRoot, "scripts", "cluster.sh"), ["up"], { encoding: "utf8" });
    const restarted = metricsServerPid();
    expect(restarted, "metrics-server running again").to.be.a("number").and.not.equal(crashed);
    const usage = (await cluster.custom.listClusterCustomObject({ group: "metrics.k8s.io", version: "v1beta1", plural: "nodes" })) as { kind: string };
    expect(usage.kind).to.equal("NodeMetricsList");
  });
});
