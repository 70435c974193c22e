// The report page: one self-contained HTML file (inline CSS and SVG, no script, no network) that
// shows the run on one time axis: load, latency, errors, replicas and CPU, and who answered.
import { totalSeconds } from "../load/plan";
import { countTotal } from "./counts";
import { barChart, escapeXml, lineChart, type Chart, type Line } from "./charts";
import type { Bucket, Series } from "../load/series";
import { describeCheck, describeReplicas, summaryRow, summaryColumns } from "./summary";

const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
const color = (i: number) => palette[i % palette.length];

const errorsOf = (bucket: Bucket) => countTotal(bucket.errors);

/** Stage boundaries, read from the buckets so they match what was recorded. */
function stageMarks(buckets: Bucket[]): { t: number; label: string }[] {
  return buckets
    .filter((bucket, i) => i === 0 || bucket.stage !== buckets[i - 1].stage)
    .map((bucket) => ({ t: bucket.t, label: bucket.stage }));
}

function bucketLine(name: string, i: number, buckets: Bucket[], value: (b: Bucket) => number | null): Line {
  return { name, color: color(i), points: buckets.map((b) => [b.t, value(b)]) };
}

/** Every chart of the report, all on the same 0..xMax seconds axis (replicas and CPU when watched). */
export function reportCharts(series: Series): Chart[] {
  const { buckets, replicas } = series;
  const xMax = Math.max(
    buckets.length,
    replicas.at(-1)?.t ?? 0,
    totalSeconds(series.plan),
  );
  const marks = stageMarks(buckets);
  const chart = (id: string, title: string, unit: string, lines: Line[]): Chart => ({ id, title, unit, xMax, lines, marks });
  const kinds = [...new Set(buckets.flatMap((b) => Object.keys(b.errors)))].sort();
  const pods = Object.keys(series.result.pods).sort();
  const replicaLine = (name: string, i: number, value: (s: Series["replicas"][number]) => number | null, dashed = false): Line => ({
    name,
    color: color(i),
    step: true,
    dashed,
    points: replicas.map((s) => [s.t, value(s)]),
  });

  return [
    chart("chart-rate", "Requests per second", "answers/s", [
      bucketLine("ok", 2, buckets, (b) => b.ok),
      bucketLine("errors", 1, buckets, errorsOf),
    ]),
    chart("chart-latency", "Latency", "ms", [
      bucketLine("p50", 0, buckets, (b) => b.p50),
      bucketLine("p90", 3, buckets, (b) => b.p90),
      bucketLine("p99", 1, buckets, (b) => b.p99),
    ]),
    chart(
      "chart-errors",
      "Errors by kind",
      "per second",
      kinds.map((kind, i) => bucketLine(kind, i + 1, buckets, (b) => b.errors[kind] ?? 0)),
    ),
    // Without a watched HPA these two would be empty frames; the page says why instead.
    ...(replicas.length === 0
      ? []
      : [
          chart("chart-replicas", "Replicas", "pods", [
            replicaLine("current", 0, (s) => s.current),
            replicaLine("desired", 1, (s) => s.desired, true),
            replicaLine("ready pods", 2, (s) => s.ready.length),
          ]),
          chart("chart-cpu", "CPU utilisation", "% of request", [
            replicaLine("cpu", 3, (s) => s.cpu),
            replicaLine("target", 1, (s) => s.cpuTarget, true),
          ]),
        ]),
    chart(
      "chart-pods",
      "Answers by pod",
      "answers/s",
      pods.map((pod, i) => bucketLine(pod, i, buckets, (b) => b.pods[pod] ?? 0)),
    ),
  ];
}

const reportStyle = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #555; } .ok { color: #1a7f37; } .bad { color: #b42318; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; } tr.total td { font-weight: 600; }
svg.chart { width: 100%; height: auto; display: block; margin: 8px 0 16px; }
svg text { font: 12px system-ui, sans-serif; fill: #333; } svg text.title { font-weight: 600; font-size: 14px; }
svg .grid { stroke: #e5e5e5; } svg .tick { fill: #666; } svg .bar { fill: #1f77b4; }
svg .mark { stroke: #999; stroke-dasharray: 3 3; } svg .mark-label { fill: #777; font-size: 11px; }
`;

export function renderReport(series: Series): string {
  const { result } = series;
  const rows = [...result.stages, result.total].map((totals) => summaryRow(totals));
  const table =
    `<table id="summary"><thead><tr>${summaryColumns.map((c) => `<th>${escapeXml(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map((row, i) => `<tr${i === rows.length - 1 ? ' class="total"' : ""}>${row.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`)
      .join("") +
    `</tbody></table>`;
  const checkClass = result.check?.exact ? "ok" : "bad";
  const podBars = Object.entries(result.pods).map(([label, value]) => ({ label, value }));
  // The raw series rides along so the page alone is the whole evidence; "<" escaped so no value
  // can close the script element.
  const data = JSON.stringify(series).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stress report ${escapeXml(series.startedAt)}</title>
<style>${reportStyle}</style></head>
<body>
<h1>Stress report</h1>
<p class="meta">${escapeXml(series.mode)} run against <code>${escapeXml(series.url)}</code>, started ${escapeXml(series.startedAt)}${result.interrupted ? " (interrupted with Ctrl-C)" : ""}</p>
<p id="check" class="${checkClass}">${escapeXml(describeCheck(series))}</p>
<p id="hpa">HPA: ${escapeXml(series.replicaError ?? describeReplicas(series.replicas))}</p>
${table}
<h2>Over time</h2>
${reportCharts(series).map(lineChart).join("\n")}
<h2>Answers by pod</h2>
${podBars.length > 0 ? barChart("chart-pod-totals", "Answers per pod, whole run", podBars) : "<p>No answer named its pod.</p>"}
<script type="application/json" id="series-data">${data}</script>
</body></html>
`;
}
