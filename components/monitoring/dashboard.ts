// The backend's Grafana dashboard as code, written with Grafana's typed builders (the Foundation
// SDK, generated from Grafana's dashboard schema), so a misspelt field fails the type check instead
// of being dropped by Grafana. Its queries come from backend-queries.ts.
import { createHash } from "node:crypto";
import { type Dashboard, DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";
import { backendQueries, type ObservedBackend } from "./backend-queries";

// Grafana's limit on a dashboard uid.
const uidLength = 40;

/**
 * One uid per backend: stacks that share a Grafana each keep their own dashboard. Readable while it
 * fits; else cut, with a hash of the whole so two long namespaces still differ.
 */
export function dashboardUid(namespace: string): string {
  const uid = `hit-counter-${namespace}`;
  if (uid.length <= uidLength) return uid;
  return `${uid.slice(0, uidLength - 9)}-${createHash("sha256").update(namespace).digest("hex").slice(0, 8)}`;
}

// The data source kube-prometheus-stack provisions in Grafana (its uid is "prometheus").
const prometheus = { type: "prometheus", uid: "prometheus" };

interface Series {
  expr: string;
  legend: string;
}

/** The dashboard as Grafana's JSON model. */
export function hitCounterDashboardModel(target: ObservedBackend): Dashboard {
  const query = backendQueries(target);
  const quantile = (q: number): Series => ({ expr: query.latencyQuantile(q, "1m"), legend: `p${Math.round(q * 100)}` });
  const replicas: Series[] = target.hpa
    ? [
        { expr: query.hpa("status_desired_replicas"), legend: "desired" },
        { expr: query.hpa("status_current_replicas"), legend: "current" },
        { expr: query.hpa("spec_max_replicas"), legend: "max" },
      ]
    : [{ expr: query.availableReplicas, legend: "available" }];
  const panels = [
    timeseries("Request rate by status", "reqps", [{ expr: query.requestRateByStatus("1m"), legend: "{{status}}" }]),
    timeseries("Error rate (5xx share)", "percentunit", [{ expr: query.errorRatio("1m"), legend: "5xx" }]),
    timeseries("Latency", "s", [quantile(0.5), quantile(0.95), quantile(0.99)]),
    timeseries("Replicas", "short", replicas),
    timeseries("CPU against requests", "cores", [
      { expr: query.cpuUsed("1m"), legend: "used" },
      { expr: query.requested("cpu"), legend: "requested" },
    ]),
    timeseries("Memory against requests", "bytes", [
      { expr: query.memoryUsed, legend: "working set" },
      { expr: query.requested("memory"), legend: "requested" },
    ]),
    // Grafana replaces $__range with the dashboard's time range.
    withTargets(new StatPanel().title("Hits counted in range").unit("short"), [{ expr: query.hitsCounted("$__range"), legend: "hits" }]),
  ];
  const dashboard = new DashboardBuilder(`Hit counter (${target.namespace})`)
    .uid(dashboardUid(target.namespace))
    .tags(["hit-counter"])
    .timezone("browser")
    .refresh("10s")
    .time({ from: "now-30m", to: "now" });
  // Two panels a row, each half of the 24-column grid.
  panels.forEach((panel, index) => dashboard.withPanel(panel.gridPos({ h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 })));
  return dashboard.build();
}

/** The dashboard JSON that Grafana's sidecar loads from a ConfigMap. */
export function hitCounterDashboard(target: ObservedBackend): string {
  return JSON.stringify(hitCounterDashboardModel(target));
}

function timeseries(title: string, unit: string, series: Series[]): TimeseriesPanel {
  return withTargets(new TimeseriesPanel().title(title).unit(unit), series);
}

function withTargets<P extends TimeseriesPanel | StatPanel>(panel: P, series: Series[]): P {
  panel.datasource(prometheus);
  series.forEach(({ expr, legend }, index) =>
    panel.withTarget(new DataqueryBuilder().expr(expr).legendFormat(legend).refId(String.fromCharCode(65 + index)).datasource(prometheus)),
  );
  return panel;
}
