// The backend as Prometheus sees it, and every PromQL query on it. The alert rules and the dashboard
// both take their expressions from here, so a renamed label or metric is mended in one place.
// Metric names are the service's (service/src/metrics.ts), kube-state-metrics' and cAdvisor's (via
// the kubelet), which kube-prometheus-stack scrapes out of the box.

/** The label values that pick the backend's series. */
export interface ObservedBackend {
  namespace: string;
  /** Name of the backend's Service: Prometheus labels the scraped series `service=<name>`. */
  service: string;
  /** Name of the backend's container, for the kubelet's CPU and memory series. */
  container: string;
  deployment: string;
  /** Undefined when the stack runs without an HPA. */
  hpa?: string;
}

export type HpaSeries = "status_desired_replicas" | "status_current_replicas" | "spec_max_replicas";

/**
 * The backend's queries. `http_requests_total` counts only traffic: the service keeps probes and
 * scrapes out of it (they go to `http_probe_requests_total`), so no query needs to exclude them.
 */
export function backendQueries(target: ObservedBackend) {
  const app = `namespace="${target.namespace}", service="${target.service}"`;
  const containers = `namespace="${target.namespace}", container="${target.container}"`;
  const errorRate = (window: string) => `sum(rate(http_requests_total{${app}, status=~"5.."}[${window}]))`;
  return {
    requestRateByStatus: (window: string) => `sum by (status) (rate(http_requests_total{${app}}[${window}]))`,
    // `or vector(0)`: with no 5xx series at all the ratio is 0, not "no data".
    errorRatio: (window: string) => `(${errorRate(window)} or vector(0)) / sum(rate(http_requests_total{${app}}[${window}]))`,
    latencyQuantile: (quantile: number, window: string) =>
      `histogram_quantile(${quantile}, sum by (le) (rate(http_request_duration_seconds_bucket{${app}}[${window}])))`,
    redisErrorRate: (window: string) => `sum(rate(redis_errors_total{${app}}[${window}]))`,
    containerRestarts: (window: string) => `increase(kube_pod_container_status_restarts_total{${containers}}[${window}])`,
    hpa: (series: HpaSeries) =>
      `kube_horizontalpodautoscaler_${series}{namespace="${target.namespace}", horizontalpodautoscaler="${target.hpa}"}`,
    availableReplicas: `kube_deployment_status_replicas_available{namespace="${target.namespace}", deployment="${target.deployment}"}`,
    cpuUsed: (window: string) => `sum(rate(container_cpu_usage_seconds_total{${containers}}[${window}]))`,
    memoryUsed: `sum(container_memory_working_set_bytes{${containers}})`,
    requested: (resource: "cpu" | "memory") => `sum(kube_pod_container_resource_requests{${containers}, resource="${resource}"})`,
    hitsCounted: (range: string) => `sum(increase(http_requests_total{${app}, route="/", method="GET", status="200"}[${range}]))`,
  };
}
