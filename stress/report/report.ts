// Writes a run's report folder: the raw series (JSON, and CSV for spreadsheets), the summary as
// printed, and the HTML page.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { countTotal } from "./counts";
import { renderReport } from "./report-html";
import type { ReplicaSample, Series } from "../load/series";
import { formatSummary } from "./summary";

export const csvColumns = ["t", "stage", "answered", "ok", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms", "replicas", "desired", "ready_pods", "cpu_pct", "pods"];

const cell = (value: string | number | null | undefined) => {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One row per second, with the HPA as it was last seen at that second. */
export function toCsv(series: Series): string {
  const rows = series.buckets.map((b) => {
    const hpa: ReplicaSample | undefined = series.replicas.filter((s) => s.t <= b.t + 1).at(-1);
    const pods = Object.entries(b.pods).map(([pod, n]) => `${pod}=${n}`).join(" ");
    const errors = countTotal(b.errors);
    return [b.t, b.stage, b.answered, b.ok, errors, b.p50, b.p90, b.p99, b.max, hpa?.current, hpa?.desired, hpa?.ready.length, hpa?.cpu, pods]
      .map(cell)
      .join(",");
  });
  return [csvColumns.join(","), ...rows].join("\n") + "\n";
}

export interface ReportFiles {
  dir: string;
  html: string;
  json: string;
  csv: string;
  summary: string;
}

export async function writeReport(dir: string, series: Series): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = {
    dir,
    html: path.join(dir, "report.html"),
    json: path.join(dir, "series.json"),
    csv: path.join(dir, "series.csv"),
    summary: path.join(dir, "summary.txt"),
  };
  await Promise.all([
    writeFile(files.json, JSON.stringify(series, null, 2) + "\n"),
    writeFile(files.csv, toCsv(series)),
    writeFile(files.summary, formatSummary(series) + "\n"),
    writeFile(files.html, renderReport(series)),
  ]);
  return files;
}
