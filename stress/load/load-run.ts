// One run of the load, wherever it executes (this machine or the in-cluster Job): read the counter,
// drive the stages, read the counter again, and say whether it grew by exactly the successes.
import type { LoadPlan } from "./plan";
import { Load } from "./load";
import { probeVisit, type Visit } from "./page";
import { Recorder } from "./recorder";
import type { Runner, RunEvents } from "./runner";
import type { CounterCheck, RunResult } from "./series";


export function counterCheck(before: Visit, after: Visit, successes: number, recorder: Recorder): CounterCheck {
  const increments = after.hits - before.hits - 1;
  return {
    before: before.hits,
    after: after.hits,
    increments,
    successes,
    exact: increments === successes,
    seenMin: recorder.seenMin,
    seenMax: recorder.seenMax,
  };
}

export class LoadRun implements Runner {
  private load: Load | undefined;
  private interrupts = 0;

  constructor(
    private readonly plan: LoadPlan,
    private readonly events: RunEvents,
  ) {}

  /** First call: finish the requests in flight and stop. Second call: stop at once. */
  interrupt(): void {
    this.interrupts++;
    if (this.interrupts === 1) this.load?.drain();
    else this.load?.stop();
  }

  async execute(): Promise<RunResult> {
    // Read alone, with nothing else in flight, the counter value is exact; during the load the
    // answers arrive out of order, so the first and last answers do not bound the run's increments.
    const before = await probeVisit(this.plan.url).catch((error: Error) => error);
    this.events.onStart(Date.now());
    const recorder = new Recorder((bucket) => this.events.onBucket(bucket));
    const ticker = setInterval(() => recorder.tick(), 250);
    this.load = new Load(this.plan, recorder);
    // A Ctrl-C that came while the counter was read still stops the load before its first request.
    if (this.interrupts > 0) this.load.drain();
    try {
      await this.load.run();
    } finally {
      clearInterval(ticker);
    }
    const after = before instanceof Error ? before : await probeVisit(this.plan.url).catch((error: Error) => error);
    const { stages, total } = recorder.totals();
    const result: RunResult = { stages, total, pods: recorder.pods, check: null, interrupted: this.interrupts > 0 };
    if (before instanceof Error || after instanceof Error) {
      result.checkError = `counter not read: ${(before instanceof Error ? before : (after as Error)).message}`;
    } else {
      result.check = counterCheck(before, after, total.ok, recorder);
    }
    return result;
  }
}
