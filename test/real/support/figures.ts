// What the real-node suite measures and prints: how fast the HPA reacts to a surge, read from the
// stress report's own series, and any other figure a step records.
import { expect } from "chai";
import type { Series } from "../../../stress/load/series";
import type { LocalCluster } from "../../support/local-cluster";

export const realNodeName = "hitcounter-node";

/** Fails with what to run when the cluster has no real node: this suite never falls back to kwok. */
export async function realNode(cluster: LocalCluster): Promise<void> {
  const { items } = await cluster.core.listNode();
  const node = items.find((n) => n.metadata?.name === realNodeName);
  if (!node) throw new Error(`no node ${realNodeName} in the cluster: run \`npm run cluster:up -- --real\` first`);
  expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status, `${realNodeName} Ready`).to.equal("True");
  expect(node.status?.nodeInfo?.containerRuntimeVersion).to.match(/^containerd:\/\//);
}

/** Seconds from the start of the surge stage; undefined when it never happened. */
export interface HpaTimeline {
  firstDesiredAboveOne?: number;
  firstNewPodReady?: number;
  firstNewAnswer?: number;
  mostReady: number;
}

export function scaleOutTimeline(series: Series, surge = "surge"): HpaTimeline {
  const start = series.buckets.find((b) => b.stage === surge)?.t;
  if (start === undefined) throw new Error(`the run has no stage "${surge}"`);
  const initial = new Set(series.replicas.filter((s) => s.t <= start).flatMap((s) => s.ready));
  const since = (t: number | undefined) => (t === undefined ? undefined : Math.max(0, Math.round((t - start) * 10) / 10));
  return {
    firstDesiredAboveOne: since(series.replicas.find((s) => s.t >= start && s.desired > 1)?.t),
    firstNewPodReady: since(series.replicas.find((s) => s.t >= start && s.ready.some((pod) => !initial.has(pod)))?.t),
    firstNewAnswer: since(series.buckets.find((b) => b.t >= start && Object.keys(b.pods).some((pod) => !initial.has(pod)))?.t),
    mostReady: Math.max(0, ...series.replicas.map((s) => s.ready.length)),
  };
}

export class RealNodeFigures {
  private readonly lines: [string, string][] = [];

  add(what: string, value: string): void {
    this.lines.push([what, value]);
  }

  /** Records the scale-out timeline of a run and returns it. */
  scaleOut(label: string, series: Series): HpaTimeline {
    const timeline = scaleOutTimeline(series);
    const s = (v?: number) => (v === undefined ? "never" : `${v} s`);
    this.add(`${label}: surge -> HPA desired > 1`, s(timeline.firstDesiredAboveOne));
    this.add(`${label}: surge -> first new pod Ready`, s(timeline.firstNewPodReady));
    this.add(`${label}: surge -> first answer from a new pod`, s(timeline.firstNewAnswer));
    this.add(`${label}: most Ready pods`, String(timeline.mostReady));
    this.add(`${label}: ok req/s in the surge`, String(series.result.stages.find((t) => t.stage === "surge")?.okPerSecond ?? "-"));
    return timeline;
  }

  /** Working set of each pod, as metrics-server reads it from the kubelet. */
  memory(when: string, usage: { pod: string; memoryMi: number; cpuMilli: number }[]): void {
    const mi = usage.map((u) => u.memoryMi).sort((a, b) => a - b);
    this.add(`backend working set ${when}`, mi.length ? `${mi[0]}-${mi.at(-1)} Mi over ${new Set(usage.map((u) => u.pod)).size} pods` : "no metrics");
  }

  print(): void {
    if (this.lines.length) console.log(`\n    figures:\n${this.lines.map(([what, value]) => `      ${what}: ${value}`).join("\n")}`);
  }
}
