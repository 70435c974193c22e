// Ctrl-C in the middle of a run: the CLI lets the requests in flight come back, skips the rest of
// the plan, and still writes a report whose counter check holds.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Series } from "../../stress/load/series";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";

const cli = path.resolve(__dirname, "../../stress/cli.ts");

describe("stress: Ctrl-C", function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let service: ServiceProcess;

  before(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url, COUNTER_KEY: "hits" });
  });
  after(async () => {
    await service?.stop();
    await redis?.stop();
  });

  it("stops cleanly and still writes the report", async () => {
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "stress-sigint-")), "report");
    const child = spawn(process.execPath, ["--import", "tsx", cli, "--url", `${service.url}/`, "--stages", "long:60s:8,never:60s:8", "--out", out], {
      env: { PATH: process.env.PATH ?? "", KUBECONFIG: path.join(out, "none") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

    // Interrupt once the load is really on.
    while (Number((await redis.cli("GET", "hits")) || 0) < 200) await new Promise((r) => setTimeout(r, 100));
    const interruptedAt = Date.now();
    child.kill("SIGINT");
    expect(await exited, output).to.equal(0);
    expect(Date.now() - interruptedAt).to.be.lessThan(10_000);

    const series = JSON.parse(await readFile(path.join(out, "series.json"), "utf8")) as Series;
    expect(series.result.interrupted).to.equal(true);
    expect(series.result.stages.map((s) => s.stage)).to.deep.equal(["long"]);
    expect(series.result.check).to.include({ exact: true, successes: series.result.total.ok });
    expect(output).to.include("stopping: finishing requests in flight");
    expect(output).to.include("report: ");
  });
});
