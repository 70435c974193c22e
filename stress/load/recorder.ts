// Turns the stream of answers into per-second buckets and per-stage totals. It keeps every latency
// of the run (bounded by --max-requests) so percentiles are exact rather than estimated.
import type { Stage } from "./plan";
import type { Visit } from "./page";
import type { Bucket, Totals } from "./series";

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function latencyStats(latencies: number[]): Pick<Bucket, "p50" | "p90" | "p99" | "max"> {
  const sorted = Float64Array.from(latencies).sort();
  const values = Array.from(sorted);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(percentile(values, 100)),
  };
}

function addTo(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

interface Tally {
  answered: number;
  ok: number;
  errors: Record<string, number>;
  latencies: number[];
}

const emptyTally = (): Tally => ({ answered: 0, ok: 0, errors: {}, latencies: [] });

interface StageTally extends Tally {
  stage: Stage;
  sent: number;
  startMs: number;
  endMs: number | null;
}

export class Recorder {
  private readonly startMs: number;
  private bucketIndex = 0;
  private bucket: Tally & { pods: Record<string, number> } = { ...emptyTally(), pods: {} };
  private readonly stages: StageTally[] = [];
  readonly pods: Record<string, number> = {};
  seenMin: number | null = null;
  seenMax: number | null = null;

  /**
   * @param onBucket called once per closed second, in order, with no gaps
   * @param clock milliseconds, monotonic (injectable for tests)
   */
  constructor(
    private readonly onBucket: (bucket: Bucket) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.startMs = clock();
  }

  /** Seconds since the recorder started. */
  elapsed(): number {
    return (this.clock() - this.startMs) / 1000;
  }

  beginStage(stage: Stage): void {
    this.endStage();
    this.tick();
    this.stages.push({ ...emptyTally(), stage, sent: 0, startMs: this.clock(), endMs: null });
  }

  endStage(): void {
    const current = this.stages.at(-1);
    if (current && current.endMs === null) current.endMs = this.clock();
  }

  sent(): void {
    this.currentStage().sent++;
  }

  answer(status: number, latencyMs: number): void {
    this.tick();
    const ok = status >= 200 && status < 300;
    for (const tally of [this.bucket, this.currentStage()]) {
      tally.answered++;
      tally.latencies.push(latencyMs);
      if (ok) tally.ok++;
      else addTo(tally.errors, `http ${status}`);
    }
  }

  /** A request that got no answer: timeout, refused or reset connection. */
  failure(kind: string): void {
    this.tick();
    addTo(this.bucket.errors, kind);
    addTo(this.currentStage().errors, kind);
  }

  visit(visit: Visit): void {
    this.tick();
    addTo(this.bucket.pods, visit.pod);
    addTo(this.pods, visit.pod);
    this.seenMin = Math.min(this.seenMin ?? visit.hits, visit.hits);
    this.seenMax = Math.max(this.seenMax ?? visit.hits, visit.hits);
  }

  /** Closes every whole second that has passed; call it at least once a second so quiet seconds show. */
  tick(): void {
    const now = Math.floor(this.elapsed());
    while (this.bucketIndex < now) this.closeBucket();
  }

  /** Closes the last (partial) second and the open stage. */
  finish(): void {
    this.tick();
    this.endStage();
    if (this.bucket.answered > 0 || Object.keys(this.bucket.errors).length > 0) this.closeBucket();
  }

  totals(): { stages: Totals[]; total: Totals } {
    const stages = this.stages.map((tally) => this.stageTotals(tally));
    const total: Totals = {
      ...this.combine(stages),
      ...latencyStats(this.stages.flatMap((tally) => tally.latencies)),
    };
    return { stages, total };
  }

  private combine(stages: Totals[]): Totals {
    const seconds = stages.reduce((sum, s) => sum + s.seconds, 0);
    const ok = stages.reduce((sum, s) => sum + s.ok, 0);
    const errors: Record<string, number> = {};
    for (const s of stages) for (const [kind, n] of Object.entries(s.errors)) addTo(errors, kind, n);
    return {
      stage: "total",
      seconds,
      connections: Math.max(0, ...stages.map((s) => s.connections)),
      rate: null,
      sent: stages.reduce((sum, s) => sum + s.sent, 0),
      answered: stages.reduce((sum, s) => sum + s.answered, 0),
      ok,
      errors,
      okPerSecond: seconds > 0 ? Math.round(ok / seconds) : 0,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    };
  }

  private stageTotals(tally: StageTally): Totals {
    const seconds = Math.round(((tally.endMs ?? this.clock()) - tally.startMs) / 10) / 100;
    return {
      stage: tally.stage.name,
      seconds,
      connections: tally.stage.connections,
      rate: tally.stage.rate ?? null,
      sent: tally.sent,
      answered: tally.answered,
      ok: tally.ok,
      errors: tally.errors,
      okPerSecond: seconds > 0 ? Math.round(tally.ok / seconds) : 0,
      ...latencyStats(tally.latencies),
    };
  }

  private currentStage(): StageTally {
    const current = this.stages.at(-1);
    if (!current) throw new Error("Recorder: beginStage() before recording");
    return current;
  }

  private closeBucket(): void {
    const { answered, ok, errors, latencies, pods } = this.bucket;
    this.onBucket({
      t: this.bucketIndex,
      stage: this.stages.at(-1)?.stage.name ?? "",
      answered,
      ok,
      errors,
      ...latencyStats(latencies),
      pods,
    });
    this.bucketIndex++;
    this.bucket = { ...emptyTally(), pods: {} };
  }
}
