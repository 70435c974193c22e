// The stack's NetworkPolicy, enforced on real pods: kube-router's firewall runs beside the real node
// (scripts/cluster/real-node.sh), as a policy-capable network plugin does on a cloud cluster. Probe pods try
// TCP connections from inside the stack's namespace, with and without the backend's labels, and
// report what they got in their termination message. Each `it` stands on the one before it (--bail).
import type { Stack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { CounterApp } from "../../components/counter-app";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../components/pod-security";
import { eventually, LocalCluster } from "../support/local-cluster";
import { standInImages } from "../support/standins";
import { E2eProject } from "../support/e2e-project";
import { realNode, realNodeName } from "./support/figures";

const namespace = "hitcounter-netpol";

// Up to 20 attempts, 0.5 s apart, per target: the first connection, or the last error code. A probe
// with the backend's labels may start before kube-router has added its address to the policy's set.
const probeScript = `
const net = require("node:net");
const once = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port, timeout: 2000 });
  socket.on("connect", () => { socket.destroy(); resolve("connected"); });
  socket.on("timeout", () => { socket.destroy(); resolve("ETIMEDOUT"); });
  socket.on("error", (error) => resolve(error.code));
});
(async () => {
  const results = {};
  for (const [name, host, port] of [["redis", "redis", 6379], ["backend", "hit-counter", 80]]) {
    for (let i = 0; i < 20 && results[name] !== "connected"; i++) {
      if (i) await new Promise((r) => setTimeout(r, 500));
      results[name] = await once(host, port);
    }
  }
  require("node:fs").writeFileSync("/dev/termination-log", JSON.stringify(results));
})();
`;

describe("real node: NetworkPolicy enforced by kube-router's firewall", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let stack: Stack | undefined;
  let image: string;

  /** Runs a probe pod with `labels` to completion and returns what each connection got. */
  async function probe(name: string, labels: Record<string, string>): Promise<Record<string, string>> {
    await cluster.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          nodeName: realNodeName,
          restartPolicy: "Never",
          securityContext: restrictedPodSecurityContext(),
          containers: [{ name: "probe", image, command: ["node", "-e", probeScript], securityContext: restrictedContainerSecurityContext }],
        },
      },
    });
    const message = await eventually(`probe ${name} to finish`, async () => {
      const pod = await cluster.core.readNamespacedPod({ name, namespace });
      return pod.status?.containerStatuses?.[0]?.state?.terminated?.message;
    }, { timeoutMs: 120_000, intervalMs: 1_000 });
    return JSON.parse(message) as Record<string, string>;
  }

  before(async function () {
    cluster = new LocalCluster();
    await realNode(cluster);
    project = E2eProject.create(cluster.kubeconfig);
    image = await cluster.publishService(`${project.dir}/service`, "netpol");
    stack = await project.stack("netpol", {
      kubeContext: cluster.context,
      namespace,
      image,
      serviceType: "ClusterIP",
      redisImage: await cluster.pushImage(standInImages().REDIS_IMAGE, "redis", "bookworm"),
      monitoringEnabled: false,
    });
    await stack.up();
  });

  after(async function () {
    if (stack) await stack.destroy().catch(() => undefined);
    project?.remove();
  });

  it("the backend reaches Redis through the policy: its pod is Ready, which takes a PING answered", async function () {
    const { items } = await cluster.core.listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/component=backend" });
    expect(items.map((pod) => [pod.spec?.nodeName, pod.status?.conditions?.find((c) => c.type === "Ready")?.status])).to.deep.equal([[realNodeName, "True"]]);
  });

  it("a pod without the backend's labels is refused at Redis's port, while it still reaches the backend", async function () {
    expect(await probe("unlabelled", { "app.kubernetes.io/name": "netpol-probe" })).to.deep.equal({ redis: "ECONNREFUSED", backend: "connected" });
  });

  it("a pod with the backend's labels connects to Redis", async function () {
    expect(await probe("backend-labelled", CounterApp.podLabels)).to.deep.equal({ redis: "connected", backend: "connected" });
  });

  it("with the policy deleted, the unlabelled pod connects too: the refusal was the policy's", async function () {
    await cluster.networking.deleteNamespacedNetworkPolicy({ name: "redis", namespace });
    expect(await probe("unlabelled-no-policy", { "app.kubernetes.io/name": "netpol-probe" })).to.deep.equal({ redis: "connected", backend: "connected" });
  });
});
