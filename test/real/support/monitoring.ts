// The chart's own Prometheus and Alertmanager, as the operator runs them on the real node, seen from
// the suite: their APIs at the pods' addresses on the node's bridge (which this host routes to), and
// their logs through the API server.
import type { LocalCluster } from "../../support/local-cluster";

/** The objects kube-prometheus-stack names after the stack's release, <namespace>-kps (components/config.ts). */
export function chartObjects(release: string) {
  return {
    prometheusPod: `prometheus-${release}-prometheus-0`,
    alertmanagerPod: `alertmanager-${release}-alertmanager-0`,
    operator: `${release}-operator`,
    kubeStateMetrics: `${release}-kube-state-metrics`,
    admissionWebhook: `${release}-admission`,
  };
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** An alert as Alertmanager's API v2 lists it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  status: { state: string };
}

export class ChartMonitoring {
  private constructor(
    private readonly cluster: LocalCluster,
    private readonly namespace: string,
    readonly prometheusUrl: string,
    readonly alertmanagerUrl: string,
  ) {}

  /** Waits for the operator's Prometheus and Alertmanager pods to be Ready and answering. */
  static async connect(cluster: LocalCluster, release: string, namespace: string, wait: <T>(what: string, probe: () => Promise<T | undefined>) => Promise<T>): Promise<ChartMonitoring> {
    const objects = chartObjects(release);
    const readyAt = (name: string, port: number) =>
      wait(`${name} Ready`, async () => {
        const pod = await cluster.core.readNamespacedPod({ name, namespace });
        const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        return ready && pod.status?.podIP ? `http://${pod.status.podIP}:${port}` : undefined;
      });
    const monitoring = new ChartMonitoring(cluster, namespace, await readyAt(objects.prometheusPod, 9090), await readyAt(objects.alertmanagerPod, 9093));
    await wait("Prometheus ready", async () => ((await fetch(`${monitoring.prometheusUrl}/-/ready`)).ok ? true : undefined));
    return monitoring;
  }

  /** An instant query's result. */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.prometheus<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`query?query=${encodeURIComponent(expr)}`);
    return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  /** The active targets' scrape pools, each with its targets' health. */
  async targets(): Promise<{ scrapePool: string; health: string; labels: Record<string, string> }[]> {
    return (await this.prometheus<{ activeTargets: { scrapePool: string; health: string; labels: Record<string, string> }[] }>("targets?state=active")).activeTargets;
  }

  /** Loaded rule groups: their names and the rule file the operator wrote each into. */
  async ruleGroups(): Promise<{ name: string; file: string; rules: { name: string; state?: string }[] }[]> {
    return (await this.prometheus<{ groups: { name: string; file: string; rules: { name: string; state?: string }[] }[] }>("rules")).groups;
  }

  /** Alerts Alertmanager would notify about now: active, neither silenced nor inhibited. */
  async notifyingAlerts(): Promise<ActiveAlert[]> {
    const response = await fetch(`${this.alertmanagerUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
    if (!response.ok) throw new Error(`Alertmanager answered ${response.status}`);
    return (await response.json()) as ActiveAlert[];
  }

  /** The last lines of a container's log, for a failure message. */
  async logTail(pod: string, container: string, lines = 20): Promise<string> {
    return this.cluster.core.readNamespacedPodLog({ name: pod, namespace: this.namespace, container, tailLines: lines }).catch((error: Error) => `(no log: ${error.message})`);
  }

  private async prometheus<T>(api: string): Promise<T> {
    const response = await fetch(`${this.prometheusUrl}/api/v1/${api}`);
    const body = (await response.json()) as { status: string; error?: string; data: T };
    if (body.status !== "success") throw new Error(`Prometheus ${api} failed: ${body.error}`);
    return body.data;
  }
}
