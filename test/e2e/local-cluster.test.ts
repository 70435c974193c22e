// The local cluster itself: kwok simulates only the nodes it made, so a real kubelet can join it.
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { LocalCluster } from "../support/local-cluster";

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
});
