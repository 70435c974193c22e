// In-cluster mode: the same load, run by a Kubernetes Job next to the pods. A port-forward pins
// every connection to one pod, so from outside only that pod gets busy; from inside, the ClusterIP
// Service spreads connections over every ready pod, as real traffic would be.
//
// The agent (agent.ts and what it imports, autocannon included) is bundled by esbuild into one
// file, shipped in a ConfigMap and run by the `node` of the image the Deployment already runs, so
// nothing has to be built or pulled. It prints its series to the log, which the CLI follows.
import { setTimeout as sleep } from "node:timers/promises";
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { build } from "esbuild";
import { randomBytes } from "node:crypto";
import path from "node:path";
import readline from "node:readline";
import { PassThrough } from "node:stream";
import { parseMessage } from "./agent-messages";
import type { KubeModule } from "./kube";
import { rounds, totalSeconds, type LoadPlan } from "./options";
import type { RunEvents } from "./run";
import type { RunResult } from "./series";

const CONTAINER = "load";
const MOUNT = "/stress";
/** Fails the pod early instead of waiting forever on a bad image or a full cluster. */
const START_TIMEOUT_MS = 180_000;
const FATAL_WAITING = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"]);

export async function bundleAgent(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(__dirname, "agent.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // Minified, the bundle is about 0.5 MB: well inside a ConfigMap's 1 MiB.
    minify: true,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

export interface JobSpec {
  name: string;
  namespace: string;
  image: string;
  plan: LoadPlan;
}

export function jobManifest({ name, namespace, image, plan }: JobSpec): k8s.V1Job {
  const labels = { "app.kubernetes.io/name": "stress", "app.kubernetes.io/instance": name };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, labels },
    spec: {
      backoffLimit: 0,
      // Bounded like a local run: the stages, one drain timeout per round of connections, and time to start.
      activeDeadlineSeconds: totalSeconds(plan.stages) + rounds(plan) * (plan.timeoutSeconds + 2) + 300,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          // The namespace enforces Pod Security "restricted".
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: CONTAINER,
              image,
              command: ["node", `${MOUNT}/agent.cjs`],
              env: [{ name: "STRESS_PLAN", value: JSON.stringify(plan) }],
              // A load generator needs CPU of its own, or it measures itself rather than the service.
              resources: { requests: { cpu: "500m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "agent", mountPath: MOUNT, readOnly: true }],
            },
          ],
          volumes: [{ name: "agent", configMap: { name, defaultMode: 0o444 } }],
        },
      },
    },
  };
}

/** The agent's ConfigMap, owned by the Job so deleting the Job removes it too. */
export function agentConfigMap(job: k8s.V1Job, bundle: string): k8s.V1ConfigMap {
  const { name, namespace, uid, labels } = job.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      labels,
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: name ?? "", uid: uid ?? "", blockOwnerDeletion: false }],
    },
    data: { "agent.cjs": bundle },
  };
}

/** The image and in-cluster URL of the app behind an HPA: what the Job runs and loads by default. */
export async function findTarget(
  kube: KubeModule,
  config: k8s.KubeConfig,
  namespace: string,
  hpaName: string,
): Promise<{ image: string; url: string }> {
  const hpa = await config.makeApiClient(kube.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace });
  const target = hpa.spec?.scaleTargetRef.name ?? "";
  const deployment = await config.makeApiClient(kube.AppsV1Api).readNamespacedDeployment({ name: target, namespace });
  const image = deployment.spec?.template.spec?.containers[0]?.image;
  const podLabels = deployment.spec?.template.metadata?.labels ?? {};
  const services = await config.makeApiClient(kube.CoreV1Api).listNamespacedService({ namespace });
  const service = services.items.find((s) => {
    const selector = Object.entries(s.spec?.selector ?? {});
    return selector.length > 0 && selector.every(([key, value]) => podLabels[key] === value);
  });
  const port = service?.spec?.ports?.[0]?.port;
  if (!image || !service || !port) {
    throw new Error(`cannot find the image and Service of deployment ${namespace}/${target}: pass --image and --url`);
  }
  return { image, url: `http://${service.metadata?.name}.${namespace}.svc:${port}` };
}

export class InClusterRun {
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
    private readonly startTimeoutMs = START_TIMEOUT_MS,
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

  async execute(bundle: string): Promise<RunResult> {
    const { namespace } = this;
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
      if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
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
    this.logAbort = await new this.kube.Log(this.config).log(this.namespace, pod, CONTAINER, stream, { follow });
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
