// npm run bench:scaling [-- SIZES...] — the scaling curve on this machine: aggregate ok req/s and
// p99 latency of the dev stack's pod size (100m request, 200m limit) with 1, 2, 4 and 8 Ready pods on
// the local cluster's real node. The load is the stress tool's own engine (LoadRun), in this process,
// through the Service's NodePort on loopback. Prints the median (min–max) of RUNS runs per size and
// the ratio to the first size. Needs `npm run cluster:up -- --real`; deploys and removes a stack of
// its own, in a throwaway copy of the project (test/support/e2e-project.ts).
//   RUNS=3 SECONDS_PER_RUN=20 CONNECTIONS=64
import { LoadRun } from "../../stress/load/load-run";
import type { Totals } from "../../stress/load/series";
import { BenchStack } from "./bench-stack";
import { wholeNumber } from "./settings";
import { median, spread } from "./stats";

const settings = {
  sizes: process.argv.length > 2 ? process.argv.slice(2).map((size) => wholeNumber(size, 1, "SIZES", 10)) : [1, 2, 4, 8],
  runs: wholeNumber(process.env.RUNS, 3, "RUNS", 20),
  seconds: wholeNumber(process.env.SECONDS_PER_RUN, 20, "SECONDS_PER_RUN", 300),
  connections: wholeNumber(process.env.CONNECTIONS, 64, "CONNECTIONS", 1000),
};

/** One run: a short warm-up in its own stage, then the `load` stage whose totals are the figures. */
async function measure(url: string): Promise<Totals> {
  const run = new LoadRun(
    {
      url,
      stages: [
        { name: "warm", seconds: 3, connections: 8 },
        { name: "load", seconds: settings.seconds, connections: settings.connections },
      ],
      maxRequests: 10_000_000,
      timeoutSeconds: 10,
      reconnectSeconds: 10,
    },
    { onStart: () => undefined, onBucket: () => undefined },
  );
  const result = await run.execute();
  if (!result.check?.exact) throw new Error(`the counter check failed at ${url}: ${result.checkError ?? JSON.stringify(result.check)}`);
  const load = result.stages.find((stage) => stage.stage === "load");
  if (!load || load.p99 === null) throw new Error(`no answer in the load stage at ${url}`);
  return load;
}

async function main(): Promise<void> {
  const bench = await BenchStack.create("scaling", "hitcounter-scaling");
  try {
    console.log(`${settings.runs} runs of ${settings.seconds} s x${settings.connections} connections per size\n`);
    console.log(`${"pods".padEnd(5)}  ${"ok req/s median (range)".padEnd(24)}  ${"p99 ms median (range)".padEnd(22)}  vs ${settings.sizes[0]} pod(s)`);
    let base: number | undefined;
    for (const pods of settings.sizes) {
      const url = await bench.resize(pods);
      const runs: Totals[] = [];
      for (let i = 0; i < settings.runs; i++) runs.push(await measure(url));
      const ok = runs.map((r) => r.okPerSecond);
      const p99 = runs.map((r) => r.p99 as number);
      base ??= median(ok);
      console.log(`${String(pods).padEnd(5)}  ${spread(ok, 0).padEnd(24)}  ${spread(p99, 1).padEnd(22)}  ${(median(ok) / base).toFixed(2)}x`);
    }
  } finally {
    await bench.destroy();
  }
}

main().catch((error: Error) => {
  console.error(`bench:scaling: ${error.message}`);
  process.exitCode = 1;
});
