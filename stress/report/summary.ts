// The end-of-run summary: one table of the stages and the run, then pods, replicas and the counter
// check in plain sentences. The same rows feed the terminal and the HTML report.
import { countTotal, formatCounts } from "./counts";
import type { ReplicaSample, Series, Totals } from "../load/series";

export const summaryColumns = ["stage", "secs", "conns", "rate", "sent", "ok", "ok/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"];

const num = (value: number | null) => (value === null ? "-" : String(Math.round(value * 10) / 10));

export function summaryRow(totals: Totals): string[] {
  const errors = countTotal(totals.errors);
  return [
    totals.stage,
    num(totals.seconds),
    String(totals.connections),
    totals.rate === null ? "-" : String(totals.rate),
    String(totals.sent),
    String(totals.ok),
    String(totals.okPerSecond),
    num(totals.p50),
    num(totals.p90),
    num(totals.p99),
    num(totals.max),
    errors === 0 ? "0" : `${errors} (${formatCounts(totals.errors, 3)})`,
  ];
}

export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** "1 → 4 replicas (first scale-out at 37 s), ready pods up to 4, CPU up to 180 % of request (target 50 %)". */
export function describeReplicas(samples: ReplicaSample[]): string {
  if (samples.length === 0) return "not watched";
  const first = samples[0];
  const peak = Math.max(...samples.map((s) => s.current));
  const last = samples.at(-1) as ReplicaSample;
  const out = samples.find((s) => s.desired > first.current);
  const cpus = samples.map((s) => s.cpu).filter((c): c is number => c !== null);
  return [
    `${first.current} -> peak ${peak} -> ${last.current} replicas`,
    out ? `first scale-out asked at ${Math.round(out.t)}s` : "no scale-out asked",
    `ready pods up to ${Math.max(...samples.map((s) => s.ready.length))}`,
    cpus.length > 0 ? `CPU up to ${Math.max(...cpus)}% of request (target ${first.cpuTarget ?? "-"}%)` : "no CPU metric",
  ].join(", ");
}

export function describeCheck(series: Series): string {
  const { check, checkError } = series.result;
  if (!check) return `counter check: ${checkError ?? "not run"}`;
  const verdict = check.exact
    ? "exact"
    : `off by ${check.increments - check.successes} (answers lost to timeouts or cut connections, or another client)`;
  return (
    `counter ${check.before} -> ${check.after}: ${check.increments} increments by the load, ` +
    `${check.successes} successful GET / -> ${verdict}` +
    (check.seenMin === null ? "" : `; values seen ${check.seenMin}..${check.seenMax}`)
  );
}

export function formatSummary(series: Series): string {
  const { result } = series;
  const rows = [...result.stages, result.total].map(summaryRow);
  return [
    `${series.mode} run against ${series.url}, started ${series.startedAt}${result.interrupted ? " (interrupted)" : ""}`,
    textTable(summaryColumns, rows),
    `answers by pod: ${formatCounts(result.pods, 12) || "none named"}`,
    `HPA: ${series.replicaError ?? describeReplicas(series.replicas)}`,
    describeCheck(series),
  ].join("\n");
}
