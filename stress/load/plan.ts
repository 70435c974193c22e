// The load plan: what to send, for how long, over how many connections. The command line builds it
// (options.ts); the local run and the in-cluster agent both execute it.

/** A plan that cannot run; the message names where the bad value came from. */
export class PlanError extends Error {}

/** One ramp step: `connections` keep-alive connections for `seconds`, optionally capped at `rate` req/s overall. */
export interface Stage {
  name: string;
  seconds: number;
  connections: number;
  rate?: number;
}

/** What the load generator needs; shared by the local run and the in-cluster agent. */
export interface LoadPlan {
  url: string;
  stages: Stage[];
  /** Hard cap on requests sent over the whole run, whatever the stages say. */
  maxRequests: number;
  /** Seconds before a request counts as a timeout. */
  timeoutSeconds: number;
  /** Seconds a connection lives before it is closed and reopened (see --reconnect). */
  reconnectSeconds: number;
}

/** Only plain http(s) URLs: autocannon speaks HTTP/1.1 and nothing else. */
export function checkUrl(text: string, source: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PlanError(`${source}: "${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PlanError(`${source}: "${text}" must be http:// or https://`);
  }
  return text;
}

export function totalSeconds(stages: Stage[]): number {
  return stages.reduce((sum, stage) => sum + stage.seconds, 0);
}

/** How many autocannon rounds the plan runs: each stage in rounds of at most reconnectSeconds. */
export function rounds(plan: LoadPlan): number {
  return plan.stages.reduce((sum, stage) => sum + Math.ceil(stage.seconds / plan.reconnectSeconds), 0);
}
