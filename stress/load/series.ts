// The shape of a run's evidence: what the recorder produces, the in-cluster agent prints, and the
// report writes. Plain JSON on purpose, so a report can be read back or diffed without this code.
import type { Stage } from "./plan";

/** One second of load. Latencies in milliseconds; null when nothing was answered that second. */
export interface Bucket {
  /** Seconds since the run started (start of this bucket). */
  t: number;
  stage: string;
  /** Answers received, any status. */
  answered: number;
  /** 2xx answers. */
  ok: number;
  /** Failures by kind: "http 503", "timeout", "ECONNREFUSED", ... */
  errors: Record<string, number>;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Answers per serving pod, as the page named it. */
  pods: Record<string, number>;
}

/** One look at the HPA and the pods of its target. */
export interface ReplicaSample {
  /** Seconds since the run started (may be negative: a sample just before the first request). */
  t: number;
  current: number;
  desired: number;
  /** Average CPU utilisation across pods, % of request; null until metrics-server reports. */
  cpu: number | null;
  cpuTarget: number | null;
  ready: string[];
}

export interface Totals {
  stage: string;
  seconds: number;
  connections: number;
  rate: number | null;
  /** Requests written to a socket, including those whose answer never came. */
  sent: number;
  answered: number;
  ok: number;
  errors: Record<string, number>;
  /** 2xx answers per second of the stage. */
  okPerSecond: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * Did the counter grow by exactly the successful `GET /` of the run? `before` and `after` come from
 * one request each, made alone before and after the load, so they are exact; each of those two
 * requests increments the counter too, hence `increments = after - before - 1`.
 */
export interface CounterCheck {
  before: number;
  after: number;
  increments: number;
  successes: number;
  exact: boolean;
  /** Smallest and largest counter value seen in answers during the load. */
  seenMin: number | null;
  seenMax: number | null;
}

export interface RunResult {
  stages: Totals[];
  total: Totals;
  pods: Record<string, number>;
  /** Null with `checkError` when the counter could not be read before or after. */
  check: CounterCheck | null;
  checkError?: string;
  /** True when Ctrl-C cut the run short. */
  interrupted: boolean;
}

export interface Series {
  url: string;
  mode: "local" | "in-cluster";
  /** ISO time of the first request. */
  startedAt: string;
  plan: Stage[];
  buckets: Bucket[];
  replicas: ReplicaSample[];
  /** Why the HPA could not be watched, if it could not. */
  replicaError?: string;
  result: RunResult;
}
