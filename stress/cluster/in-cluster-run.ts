// In-cluster mode: the same load, run by a Kubernetes Job next to the pods. A port-forward pins
// every connection to one pod, so from outside only that pod gets busy; from inside, the ClusterIP
// Service spreads connections over every ready pod, as real traffic would be.
//
// The agent (agent.ts and what it imports, autocannon included) is bundled by esbuild into one
// file, shipped in a ConfigMap and run by the `node` of the image the Deployment already runs, so
// nothing has to be built or pulled. It prints its series to the log, which the CLI follows.
import { setTimeout as sleep } from "node:timers/promises";
import { randomBytes } from "node:crypto";
import readline from "node:readline";
import { PassThrough } from "node:stream";
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { LoadPlan } from "../load/plan";
import type { Runner, RunEvents } from "../load/runner";
import type { RunResult } from "../load/series";
import { bundleAgent } from "./agent-bundle";
import { parseMessage } from "./agent-messages";
import { agentConfigMap, agentContainer, jobManifest } from "./job-manifests";
import type { KubeModule } from "./kube";

/** Fails the pod early instead of waiting forever on a bad image or a full cluster. */
const defaultStartTimeoutMs = 180_000;
const fatalWaiting = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"]);

export class InClusterRun implements Runner {
  readonly name = `stress-${randomBytes(3).toString("hex")}`;
  private result: RunResult | undefined;
  private failure: string | undefined;
  private deleted = false;
  private logAbort: AbortController | undefined;
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;

  constructor(
    private readonly kube: KubeModule,
    private readonly config: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly image: string,
    private readonly plan: LoadPlan,
    private readonly events: RunEvents,
    private readonly startTimeoutMs = defaultStartTimeoutMs,
  ) {
    this.batch = config.makeApiClient(kube.BatchV1Api);
    this.core = config.makeApiClient(kube.CoreV1Api);
  }

  /** First call: delete the Job, whose pod then drains and still reports. Second: stop listening. */
  interrupt(): void {
    if (!this.deleted) this.deleteJob().catch((error: Error) => (this.failure = `deleting Job ${this.name}: ${error.message}`));
    else {
      this.failure = "interrupted twice: the agent's result was not waited for";
      this.logAbort?.abort();
    }
  }

  async execute(): Promise<RunResult> {
    const { namespace } = this;
    const bundle = await bundleAgent();
    const job = await this.batch.createNamespacedJob({
      namespace,
      body: jobManifest({ name: this.name, namespace, image: this.image, plan: this.plan }),
    });
    try {
      await this.core.createNamespacedConfigMap({ namespace, body: agentConfigMap(job, bundle) });
      const pod = await this.waitForPod();
      let seen = 0;
      while (!this.result && !this.failure) {
        const before = seen;
        seen = await this.readLog(pod, seen, true);
        if (seen === before) await sleep(1000);
        // The log stream can end while the container still runs (API server timeouts): follow
        // again, skipping the lines already read, until the result line or the pod's end.
        if (!this.result && !this.failure && (await this.podDone(pod))) {
          await this.readLog(pod, seen, false);
          this.failure ??= `pod ${pod} ended without a result`;
        }
      }
    } finally {
      if (!this.deleted) await this.deleteJob();
    }
    if (!this.result) throw new Error(`in-cluster run ${namespace}/${this.name}: ${this.failure}`);
    return this.result;
  }

  private async deleteJob(): Promise<void> {
    this.deleted = true;
    await this.batch.deleteNamespacedJob({ name: this.name, namespace: this.namespace, propagationPolicy: "Background" });
  }

  private async waitForPod(): Promise<string> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `job-name=${this.name}` });
      const pod = pods.items[0];
      const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && fatalWaiting.has(waiting.reason)) {
        throw new Error(`Job pod ${pod.metadata?.name} cannot start: ${waiting.reason}: ${waiting.message ?? ""}`);
      }
      if (pod && pod.status?.phase !== "Pending") return pod.metadata?.name ?? "";
      if (Date.now() > deadline) throw new Error(`Job ${this.name}: no running pod after ${this.startTimeoutMs / 1000}s`);
      await sleep(1000);
    }
  }

  private async podDone(name: string): Promise<boolean> {
    const pod = await this.core.readNamespacedPod({ name, namespace: this.namespace });
    return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
  }

  /** Reads the pod's log from the start, handling the lines after the first `skip`; returns the lines read. */
  private async readLog(pod: string, skip: number, follow: boolean): Promise<number> {
    const stream = new PassThrough();
    let count = 0;
    const lines = (async () => {
      for await (const line of readline.createInterface({ input: stream })) {
        if (count++ >= skip) this.handle(line);
      }
    })();
    this.logAbort = await new this.kube.Log(this.config).log(this.namespace, pod, agentContainer, stream, { follow });
    this.logAbort.signal.addEventListener("abort", () => stream.end());
    await lines;
    return count;
  }

  private handle(line: string): void {
    const message = parseMessage(line);
    if (message?.type === "start") this.events.onStart(message.startedAt);
    else if (message?.type === "bucket") this.events.onBucket(message.bucket);
    else if (message?.type === "result") this.result = message.result;
    else if (message?.type === "error") this.failure = message.message;
  }
}
