// What the CLI drives: a run of the load, on this machine (load-run.ts) or as a Job in the cluster
// (cluster/in-cluster-run.ts), reporting as it goes.
import type { Bucket, RunResult } from "./series";

export interface RunEvents {
  /** Wall-clock time (epoch ms) the load starts, after the first counter read. */
  onStart(startedAt: number): void;
  onBucket(bucket: Bucket): void;
}

export interface Runner {
  execute(): Promise<RunResult>;
  /** First call: stop sending and let requests in flight finish. Second: stop waiting for them. */
  interrupt(): void;
}
