// Watches the HPA during a run: replicas current/desired, CPU against target, and which pods of its
// target are Ready. Polls every couple of seconds rather than opening watches: the HPA controller
// only acts every 15 s, and three GETs a poll are all it takes on any cluster, kwok's included.
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { loadKubeConfig } from "./kube";

export interface HpaSnapshot {
  /** Wall-clock time of the poll, epoch ms. */
  at: number;
  current: number;
  desired: number;
  cpu: number | null;
  cpuTarget: number | null;
  ready: string[];
}

interface Apis {
  autoscaling: k8s.AutoscalingV2Api;
  apps: k8s.AppsV1Api;
  core: k8s.CoreV1Api;
}

function isCpu(metric: { type: string; resource?: { name: string } }): boolean {
  return metric.type === "Resource" && metric.resource?.name === "cpu";
}

function isReady(pod: k8s.V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export class HpaWatcher {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly apis: Apis,
    readonly namespace: string,
    readonly name: string,
    private readonly onSnapshot: (snapshot: HpaSnapshot) => void,
    private readonly onError: (message: string) => void,
    private readonly intervalMs = 2000,
  ) {}

  static async connect(
    kubeconfig: string,
    namespace: string,
    name: string,
    onSnapshot: (snapshot: HpaSnapshot) => void,
    onError: (message: string) => void,
    intervalMs?: number,
  ): Promise<HpaWatcher> {
    const { kube, config } = await loadKubeConfig(kubeconfig);
    const apis: Apis = {
      autoscaling: config.makeApiClient(kube.AutoscalingV2Api),
      apps: config.makeApiClient(kube.AppsV1Api),
      core: config.makeApiClient(kube.CoreV1Api),
    };
    return new HpaWatcher(apis, namespace, name, onSnapshot, onError, intervalMs);
  }

  /** One look at the HPA and its pods. */
  async snapshot(): Promise<HpaSnapshot> {
    const { namespace, name } = this;
    const hpa = await this.apis.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace });
    const at = Date.now();
    const target = hpa.spec?.scaleTargetRef;
    const scale =
      target?.kind === "StatefulSet"
        ? await this.apis.apps.readNamespacedStatefulSetScale({ name: target.name, namespace })
        : await this.apis.apps.readNamespacedDeploymentScale({ name: target?.name ?? "", namespace });
    const selector = scale.status?.selector;
    const pods = selector ? await this.apis.core.listNamespacedPod({ namespace, labelSelector: selector }) : undefined;
    // Until the HPA controller's first pass the HPA's status is empty but for desiredReplicas: 0
    // (never a real answer: an HPA keeps at least one replica). The target's own count stands in.
    const replicas = scale.status?.replicas ?? 0;
    return {
      at,
      current: hpa.status?.currentReplicas ?? replicas,
      desired: hpa.status?.desiredReplicas || replicas,
      cpu: hpa.status?.currentMetrics?.find(isCpu)?.resource?.current.averageUtilization ?? null,
      cpuTarget: hpa.spec?.metrics?.find(isCpu)?.resource?.target.averageUtilization ?? null,
      ready: (pods?.items ?? [])
        .filter(isReady)
        .map((pod) => pod.metadata?.name ?? "")
        .sort(),
    };
  }

  /** Polls until stop(); a failed poll is reported and the next one tried. */
  start(): void {
    const poll = async () => {
      try {
        this.onSnapshot(await this.snapshot());
      } catch (error) {
        this.onError(`HPA ${this.namespace}/${this.name}: ${(error as Error).message}`);
      }
      if (!this.stopped) this.timer = setTimeout(() => (this.polling = poll()), this.intervalMs);
    };
    this.polling = poll();
  }

  /** Stops polling; resolves once a poll in flight has landed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }
}
