// The backend's alert rules (a PrometheusRule's spec.groups), unit-tested with promtool in
// test/rules. Thresholds are starting points a team tunes; each `for` keeps a blip (one slow
// rollout, one restart) from paging anyone.
import { backendQueries, type ObservedBackend } from "./backend-queries";

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "warning" | "critical" };
  annotations: { summary: string; description: string };
}

export function hitCounterAlerts(target: ObservedBackend): { name: string; rules: AlertRule[] }[] {
  const query = backendQueries(target);
  const rules: AlertRule[] = [
    {
      alert: "HitCounterHighErrorRatio",
      expr: `${query.errorRatio("5m")} > 0.05`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "More than 5 % of hit-counter responses are 5xx",
        description: "{{ $value | humanizePercentage }} of requests in namespace " + target.namespace + " failed over 5 minutes.",
      },
    },
    {
      alert: "HitCounterRedisUnreachable",
      expr: `${query.redisErrorRate("2m")} > 0`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The hit-counter backends cannot reach Redis",
        description: "Backends in namespace " + target.namespace + " report Redis errors for 2 minutes; the counter is not counting.",
      },
    },
    {
      alert: "HitCounterPodsRestarting",
      expr: `${query.containerRestarts("15m")} >= 3`,
      for: "0m",
      labels: { severity: "warning" },
      annotations: {
        summary: "A hit-counter pod keeps restarting",
        description: "Pod {{ $labels.pod }} restarted {{ $value | printf \"%.0f\" }} times in 15 minutes.",
      },
    },
  ];
  if (target.hpa) {
    rules.push({
      alert: "HitCounterAtMaxReplicas",
      expr: `${query.hpa("status_current_replicas")} >= ${query.hpa("spec_max_replicas")}`,
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
