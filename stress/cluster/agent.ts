// Entry point of the in-cluster Job: runs the load next to the pods (through the ClusterIP Service,
// so kube-proxy spreads connections over every ready pod) and prints the series to its log.
import { formatMessage, type AgentMessage } from "./agent-messages";
import { checkUrl, type LoadPlan } from "../load/plan";
import { LoadRun } from "../load/load-run";

const print = (message: AgentMessage) => process.stdout.write(formatMessage(message) + "\n");

async function main(): Promise<void> {
  // The CLI built and validated the plan; only its URL is rechecked before anything is sent.
  const plan = JSON.parse(process.env.STRESS_PLAN ?? "null") as LoadPlan | null;
  if (!plan) throw new Error("STRESS_PLAN is not set");
  checkUrl(plan.url, "STRESS_PLAN url");
  const run = new LoadRun(plan, {
    onStart: (startedAt) => print({ type: "start", startedAt }),
    onBucket: (bucket) => print({ type: "bucket", bucket }),
  });
  // Deleting the Job (the CLI's Ctrl-C) sends SIGTERM: drain and still report.
  process.on("SIGTERM", () => run.interrupt());
  print({ type: "result", result: await run.execute() });
}

main().catch((error: Error) => {
  print({ type: "error", message: error.message });
  process.exitCode = 1;
});
