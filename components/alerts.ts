// The backend's alert rules (a PrometheusRule's spec.groups). Thresholds are starting points a team
// tunes; each `for` keeps a blip (one slow rollout, one restart) from paging anyone.
import type { ObservedBackend } from "./dashboard";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "warning" | "critical" };
  annotations: { summary: string; description: string };
}

export function hitCounterAlerts(target: ObservedBackend): { name: string; rules: AlertRule[] }[] {
  const app = `namespace="${target.namespace}", service="${target.service}"`;
  const rules: AlertRule[] = [
    {
      alert: "HitCounterHighErrorRatio",
      expr: `sum(rate(http_requests_total{${app}, status=~"5.."}[5m])) / sum(rate(http_requests_total{${app}}[5m])) > 0.05`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "More than 5 % of hit-counter responses are 5xx",
        description: "{{ $value | humanizePercentage }} of requests in namespace " + target.namespace + " failed over 5 minutes.",
      },
    },
    {
      alert: "HitCounterRedisUnreachable",
      expr: `sum(rate(redis_errors_total{${app}}[2m])) > 0`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The hit-counter backends cannot reach Redis",
        description: "Backends in namespace " + target.namespace + " report Redis errors for 2 minutes; the counter is not counting.",
      },
    },
    {
      alert: "HitCounterPodsRestarting",
      expr: `increase(kube_pod_container_status_restarts_total{namespace="${target.namespace}", container="${target.container}"}[15m]) >= 3`,
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "A hit-counter pod keeps restarting",
        description: "Pod {{ $labels.pod }} restarted {{ $value }} times in 15 minutes.",
      },
    },
  ];
  if (target.hpa) {
    const hpa = `namespace="${target.namespace}", horizontalpodautoscaler="${target.hpa}"`;
    rules.push({
      alert: "HitCounterAtMaxReplicas",
      expr: `kube_horizontalpodautoscaler_status_current_replicas{${hpa}} >= kube_horizontalpodautoscaler_spec_max_replicas{${hpa}}`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The hit-counter HPA has been at its maximum for 15 minutes",
        description: "Load may exceed what maxReplicas allows; raise it or the per-pod capacity.",
      },
    });
  }
  return [{ name: "hit-counter", rules }];
}
