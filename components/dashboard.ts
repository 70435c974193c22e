// The backend's Grafana dashboard as code. Metric names are the service's (service/src/metrics.ts)
// and kube-state-metrics' / cAdvisor's, which kube-prometheus-stack scrapes out of the box.

/** The backend as Prometheus sees it: the label values that pick its series. */
export interface ObservedBackend {
  namespace: string;
  /** Name of the backend's Service: Prometheus labels the scraped series `service=<name>`. */
  service: string;
  /** Name of the backend's container, for the kubelet's CPU and memory series. */
  container: string;
  /** Undefined when the stack runs without an HPA: the replica panel then shows the Deployment. */
  hpa?: string;
  deployment: string;
}

interface Panel {
  title: string;
  unit: string;
  targets: { expr: string; legendFormat: string }[];
  type?: "timeseries" | "stat";
}

export const dashboardUid = "hit-counter";

/** The dashboard JSON that Grafana's sidecar loads from a ConfigMap. */
export function hitCounterDashboard(target: ObservedBackend): string {
  const app = `namespace="${target.namespace}", service="${target.service}"`;
  const pods = `namespace="${target.namespace}", container="${target.container}"`;
  const quantile = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${app}}[1m])))`,
    legendFormat: `p${Math.round(q * 100)}`,
  });
  const replicas = target.hpa
    ? [
        { expr: `kube_horizontalpodautoscaler_status_desired_replicas{namespace="${target.namespace}", horizontalpodautoscaler="${target.hpa}"}`, legendFormat: "desired" },
        { expr: `kube_horizontalpodautoscaler_status_current_replicas{namespace="${target.namespace}", horizontalpodautoscaler="${target.hpa}"}`, legendFormat: "current" },
        { expr: `kube_horizontalpodautoscaler_spec_max_replicas{namespace="${target.namespace}", horizontalpodautoscaler="${target.hpa}"}`, legendFormat: "max" },
      ]
    : [{ expr: `kube_deployment_status_replicas_available{namespace="${target.namespace}", deployment="${target.deployment}"}`, legendFormat: "available" }];
  const panels: Panel[] = [
    { title: "Request rate by status", unit: "reqps", targets: [{ expr: `sum by (status) (rate(http_requests_total{${app}}[1m]))`, legendFormat: "{{status}}" }] },
    {
      title: "Error rate (5xx share)",
      unit: "percentunit",
      targets: [{ expr: `sum(rate(http_requests_total{${app}, status=~"5.."}[1m])) / sum(rate(http_requests_total{${app}}[1m]))`, legendFormat: "5xx" }],
    },
    { title: "Latency", unit: "s", targets: [quantile(0.5), quantile(0.95), quantile(0.99)] },
    { title: "Replicas", unit: "short", targets: replicas },
    {
      title: "CPU against requests",
      unit: "cores",
      targets: [
        { expr: `sum(rate(container_cpu_usage_seconds_total{${pods}}[1m]))`, legendFormat: "used" },
        { expr: `sum(kube_pod_container_resource_requests{${pods}, resource="cpu"})`, legendFormat: "requested" },
      ],
    },
    {
      title: "Memory against requests",
      unit: "bytes",
      targets: [
        { expr: `sum(container_memory_working_set_bytes{${pods}})`, legendFormat: "working set" },
        { expr: `sum(kube_pod_container_resource_requests{${pods}, resource="memory"})`, legendFormat: "requested" },
      ],
    },
    {
      title: "Hits counted in range",
      unit: "short",
      type: "stat",
      targets: [{ expr: `sum(increase(http_requests_total{${app}, route="/", status="200"}[$__range]))`, legendFormat: "hits" }],
    },
  ];
  return JSON.stringify({
    uid: dashboardUid,
    title: "Hit counter",
    tags: ["hit-counter"],
    timezone: "browser",
    refresh: "10s",
    time: { from: "now-30m", to: "now" },
    schemaVersion: 39,
    panels: panels.map((panel, index) => ({
      id: index + 1,
      type: panel.type ?? "timeseries",
      title: panel.title,
      datasource: { type: "prometheus", uid: "prometheus" },
      // Two panels a row, each half the 24-column grid.
      gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      targets: panel.targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), ...t })),
    })),
  });
}
