// `npm run stress`: resolve the target, watch the HPA, run the load here or in the cluster, show
// live progress, then write the report and print the summary.
import { HpaWatcher, type HpaSnapshot } from "./cluster/hpa-watch";
import { InClusterRun } from "./cluster/in-cluster-run";
import { findTarget } from "./cluster/target";
import { kubeconfigPath, loadKubeConfig } from "./cluster/kube";
import { type LoadPlan, totalSeconds } from "./load/plan";
import { OptionsError, parseOptions, usage, type Options } from "./options";
import { Progress, type ProgressStream } from "./report/progress";
import { writeReport } from "./report/report";
import { LoadRun } from "./load/load-run";
import type { Runner, RunEvents } from "./load/runner";
import type { Bucket, ReplicaSample, RunResult, Series } from "./load/series";
import { appUrlOf, type PrintedOutputs, readStackOutputs } from "./stack-outputs";
import { formatSummary } from "./report/summary";

interface Target {
  url: string;
  mode: Series["mode"];
  namespace: string;
  hpa?: string;
  kubeconfig?: string;
  runner: (plan: LoadPlan, events: RunEvents) => Runner;
}

/** Flags first, then the stack's outputs (read only when something is missing), then the cluster. */
async function resolveTarget(options: Options): Promise<Target> {
  const kubeconfig = kubeconfigPath(options.kubeconfig);
  let outputs: PrintedOutputs = {};
  let stackError: Error | undefined;
  if (options.url === undefined || (options.hpa === undefined && kubeconfig !== undefined)) {
    outputs = await readStackOutputs(options.stack).catch((error: Error) => {
      stackError = error;
      return {};
    });
  }
  const namespace = options.namespace ?? outputs.namespace ?? "default";
  const hpa = options.hpa ?? outputs.hpaName;

  if (!options.inCluster) {
    if (options.url === undefined && stackError) throw stackError;
    const url = options.url ?? appUrlOf(outputs);
    return { url, mode: "local", namespace, hpa, kubeconfig, runner: (plan, events) => new LoadRun(plan, events) };
  }

  if (!kubeconfig) throw new OptionsError("--in-cluster needs a kubeconfig: pass --kubeconfig or set KUBECONFIG");
  const { kube, config } = await loadKubeConfig(kubeconfig);
  let { url, image } = options;
  if (url === undefined || image === undefined) {
    if (!hpa) throw new OptionsError("--in-cluster without --url and --image needs --hpa to find the app");
    const found = await findTarget(kube, config, namespace, hpa);
    url ??= found.url;
    image ??= found.image;
  }
  const jobImage = image;
  return {
    url,
    mode: "in-cluster",
    namespace,
    hpa,
    kubeconfig,
    runner: (plan, events) => new InClusterRun(kube, config, namespace, jobImage, plan, events),
  };
}

async function startWatcher(target: Target, progress: Progress, snapshots: HpaSnapshot[]): Promise<HpaWatcher | string> {
  if (!target.kubeconfig) return "not watched: no kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)";
  if (!target.hpa) return "not watched: no HPA name (--hpa, or the stack's hpaName output)";
  const watcher = await HpaWatcher.connect(
    target.kubeconfig,
    target.namespace,
    target.hpa,
    (snapshot) => {
      snapshots.push(snapshot);
      progress.snapshot(snapshot);
    },
    (message) => progress.hpaError(message),
  );
  watcher.start();
  return watcher;
}

function replicaSeries(snapshots: HpaSnapshot[], startedAt: number): ReplicaSample[] {
  // `|| 0`: a sample a few ms before the start rounds to -0, which JSON writes as 0.
  return snapshots.map(({ at, ...rest }) => ({ t: Math.round((at - startedAt) / 100) / 10 || 0, ...rest }));
}

/** Where the summary (stdout) and the progress and notes (stderr) go; tests pass their own. */
export interface Io {
  out: NodeJS.WritableStream;
  err: ProgressStream;
}

export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<Series | undefined> {
  const options = parseOptions(argv);
  if (options.help) {
    io.out.write(usage);
    return;
  }
  const target = await resolveTarget(options);
  const plan: LoadPlan = {
    url: target.url,
    stages: options.stages,
    maxRequests: options.maxRequests,
    timeoutSeconds: options.timeoutSeconds,
    reconnectSeconds: options.reconnectSeconds,
  };
  const progress = new Progress(totalSeconds(plan.stages), io.err);
  const buckets: Bucket[] = [];
  const snapshots: HpaSnapshot[] = [];
  let startedAt: number | undefined;
  const runner = target.runner(plan, {
    onStart: (at) => (startedAt = at),
    onBucket: (bucket) => {
      buckets.push(bucket);
      progress.bucket(bucket);
    },
  });
  const watcher = await startWatcher(target, progress, snapshots);

  io.err.write(`${target.mode} load against ${target.url}: ${plan.stages.map((s) => `${s.name} ${s.seconds}s x${s.connections}`).join(", ")}\n`);
  const onSigint = () => {
    io.err.write("\nstopping: finishing requests in flight (Ctrl-C again to cut them)\n");
    runner.interrupt();
  };
  process.on("SIGINT", onSigint);
  const redraw = setInterval(() => progress.draw(startedAt ? (Date.now() - startedAt) / 1000 : 0), 1000);
  let result: RunResult;
  try {
    result = await runner.execute();
  } finally {
    clearInterval(redraw);
    process.off("SIGINT", onSigint);
    if (typeof watcher !== "string") await watcher.stop();
  }

  const start = startedAt ?? Date.now();
  const series: Series = {
    url: target.url,
    mode: target.mode,
    startedAt: new Date(start).toISOString(),
    plan: plan.stages,
    buckets,
    replicas: replicaSeries(snapshots, start),
    ...(typeof watcher === "string" ? { replicaError: watcher } : {}),
    result,
  };
  const files = await writeReport(options.out, series);
  io.out.write(`\n${formatSummary(series)}\n\nreport: ${files.html}\nseries: ${files.json}, ${files.csv}\n`);
  return series;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error instanceof OptionsError ? `stress: ${error.message}\n\n${usage}` : `stress: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  });
}
