// The live panel on stderr: redrawn in place on a terminal, one line every few seconds in a log.
import type { HpaSnapshot } from "../cluster/hpa-watch";
import type { Bucket } from "../load/series";
import { countTotal, formatCounts } from "./counts";


/** stderr, or anything writable: only a terminal (isTTY) gets the redrawn panel. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

const ms = (value: number | null) => (value === null ? "-" : `${Math.round(value)}ms`);

export class Progress {
  private last: Bucket | undefined;
  private ok = 0;
  private readonly errors: Record<string, number> = {};
  private readonly pods: Record<string, number> = {};
  private hpa: HpaSnapshot | undefined;
  private hpaProblem: string | undefined;
  private drawnLines = 0;
  private lastLogged = 0;

  constructor(
    private readonly totalSeconds: number,
    private readonly stream: ProgressStream = process.stderr,
  ) {}

  bucket(bucket: Bucket): void {
    this.last = bucket;
    this.ok += bucket.ok;
    for (const [kind, n] of Object.entries(bucket.errors)) this.errors[kind] = (this.errors[kind] ?? 0) + n;
    for (const [pod, n] of Object.entries(bucket.pods)) this.pods[pod] = (this.pods[pod] ?? 0) + n;
  }

  snapshot(snapshot: HpaSnapshot): void {
    this.hpa = snapshot;
    this.hpaProblem = undefined;
  }

  hpaError(message: string): void {
    this.hpaProblem = message;
  }

  /** The panel's lines for `elapsed` seconds into the run. */
  render(elapsed: number): string[] {
    const b = this.last;
    const remaining = Math.max(0, this.totalSeconds - elapsed);
    const lines = [
      `${elapsed.toFixed(0)}s elapsed, ${remaining.toFixed(0)}s left` +
        (b ? ` [${b.stage}]  ${b.ok} ok/s  p50 ${ms(b.p50)}  p99 ${ms(b.p99)}` : "") +
        `  ok ${this.ok}  errors ${countTotal(this.errors)}` +
        (countTotal(this.errors) > 0 ? ` (${formatCounts(this.errors, 3)})` : ""),
    ];
    if (this.hpa) {
      const cpu = this.hpa.cpu === null ? "cpu -" : `cpu ${this.hpa.cpu}%`;
      const target = this.hpa.cpuTarget === null ? "" : `/${this.hpa.cpuTarget}%`;
      lines.push(
        `HPA replicas ${this.hpa.current} -> ${this.hpa.desired}  ${cpu}${target}  ready pods ${this.hpa.ready.length}`,
      );
    }
    if (this.hpaProblem) lines.push(this.hpaProblem);
    if (Object.keys(this.pods).length > 0) lines.push(`answers by pod: ${formatCounts(this.pods)}`);
    return lines;
  }

  /** Redraws the panel on a terminal; elsewhere prints it every 5 s so CI logs stay short. */
  draw(elapsed: number): void {
    const lines = this.render(elapsed);
    if (this.stream.isTTY) {
      const width = this.stream.columns || 120;
      // Back to the panel's first line and clear below it, so a shorter panel leaves nothing behind.
      const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : "";
      this.stream.write(up + lines.map((line) => `${line.slice(0, width - 1)}\n`).join(""));
      this.drawnLines = lines.length;
    } else if (elapsed - this.lastLogged >= 5) {
      this.lastLogged = elapsed;
      this.stream.write(lines.join(" | ") + "\n");
    }
  }
}
