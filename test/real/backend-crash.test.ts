// A backend pod's process killed with SIGKILL under load, as the OOM killer or a crash ends it: no
// SIGTERM, no preStop, no drain. Two replicas without an HPA, so the other pod is there to serve and
// nothing else moves. What fails and for how long are figures (printed, not bounded); what the test
// holds to is that no 2xx goes uncounted and that the pod comes back by itself. Each `it` stands on
// the one before it (--bail).
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { eventually, LocalCluster } from "../support/local-cluster";
import { realNode, RealNodeFigures, realNodeName } from "./support/figures";
import { FaultStack, failures } from "./support/fault-stack";
import { killContainer } from "./support/kill-container";
import { stress } from "./support/stress";

const namespace = "hitcounter-crash";
const backendSelector = "app.kubernetes.io/component=backend";
const runs = 3;

describe("real node: a backend pod's process killed with SIGKILL under load", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let stack: FaultStack | undefined;
  let url: string;
  const figures = new RealNodeFigures();

  async function backendPods() {
    const { items } = await cluster.core.listNamespacedPod({ namespace, labelSelector: backendSelector });
    return items;
  }

  async function allReady(): Promise<boolean> {
    const pods = await backendPods();
    return pods.length === 2 && pods.every((pod) => pod.status?.containerStatuses?.[0]?.ready === true);
  }

  before(async function () {
    cluster = new LocalCluster();
    await realNode(cluster);
    stack = await FaultStack.up(cluster, "crash", namespace);
    url = stack.url;
  });

  after(async function () {
    await stack?.destroy();
    figures.print();
  });

  it("runs two backend pods on the real node, no HPA", async function () {
    expect(await allReady()).to.equal(true);
    expect((await backendPods()).map((pod) => pod.spec?.nodeName)).to.deep.equal([realNodeName, realNodeName]);
  });

  for (let run = 1; run <= runs; run++) {
    it(`run ${run} of ${runs}: requests fail only for a moment, every 2xx is counted, the pod restarts by itself`, async function () {
      await eventually("both backend pods Ready", async () => ((await allReady()) ? true : undefined));
      const load = stress(cluster, namespace, ["--url", url, "--stages", "steady:40s:8:400"]);
      await sleep(15_000);
      const victim = (await backendPods())[run % 2];
      const restartsBefore = victim.status?.containerStatuses?.[0]?.restartCount ?? 0;
      killContainer(victim.metadata?.uid ?? "", victim.status?.containerStatuses?.[0]?.containerID ?? "");
      const series = await load;

      const check = series.result.check;
      if (!check) throw new Error(`no counter check: ${series.result.checkError}`);
      // Requests sent without a 2xx back: those in flight on the killed process get no answer at all.
      // Refused reconnects show among the errors, but their requests go out again on a new connection.
      const { failed, seconds } = failures(series);
      const uncounted = check.increments - check.successes;
      figures.add(
        `run ${run}: one of 2 pods SIGKILLed at 400 req/s`,
        `${failed} of ${series.result.total.sent} requests without a 2xx, connection errors ${JSON.stringify(series.result.total.errors)} over ${seconds} s; ${uncounted} increments without a 2xx`,
      );
      // A request whose INCR ran as its process died is counted without an answer; a 2xx never goes uncounted.
      expect(uncounted, `counter check: ${JSON.stringify(check)}`).to.be.within(0, failed);
      const restarted = await eventually("the killed pod restarted and Ready", async () => {
        const pod = (await backendPods()).find((p) => p.metadata?.uid === victim.metadata?.uid);
        const status = pod?.status?.containerStatuses?.[0];
        return status && status.restartCount > restartsBefore && status.ready ? status : undefined;
      });
      expect(restarted.lastState?.terminated?.exitCode, "exit code of the killed process").to.equal(137);
    });
  }
});
