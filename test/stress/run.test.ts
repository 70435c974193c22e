// A short real run of `npm run stress` against the service (a real process on a real redis-server),
// with the HPA watched through the fake Kubernetes API: the report's totals must agree with the
// server's own /metrics and with the counter in Redis, and the HTML page must render the run's data.
import { expect } from "chai";
import { readFile, mkdtemp, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { chromium, type Browser } from "playwright-core";
import { main } from "../../stress/cli";
import type { Series } from "../../stress/load/series";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";
import { FakeKubeApi } from "../support/fake-kube-api";

/** The service's own count of `GET /` answered 200, from its Prometheus exposition. */
async function servedOk(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("http_requests_total{") && l.includes('route="/"') && l.includes('method="GET"') && l.includes('status="200"'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe("stress: a short run against the real service", function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let service: ServiceProcess;
  let api: FakeKubeApi;
  let out: string;
  let series: Series;
  let summary: string;
  const start = { counter: 0, metric: 0 };
  const end = { counter: 0, metric: 0 };

  before(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url, COUNTER_KEY: "hits" });
    api = await FakeKubeApi.start();
    out = path.join(await mkdtemp(path.join(os.tmpdir(), "stress-report-")), "report");
    start.counter = Number((await redis.cli("GET", "hits")) || 0);
    start.metric = await servedOk(service.url);

    // Scale the fake cluster out once the watcher has had its first full look (HPA, scale, then
    // pods), as the HPA would.
    const scaler = setInterval(() => {
      if (api.requests.some((r) => r.includes("/pods?"))) {
        api.scaleTo(3, 140);
        clearInterval(scaler);
      }
    }, 50);
    const stdout = collect();
    const result = await main(
      ["--url", `${service.url}/`, "--stages", "warm:1s:4,surge:3s:16", "--out", out, "--kubeconfig", api.kubeconfig, "--namespace", api.namespace, "--hpa", api.hpaName],
      { out: stdout.stream, err: new PassThrough() },
    );
    clearInterval(scaler);
    series = result as Series;
    summary = stdout.text();
    end.counter = Number(await redis.cli("GET", "hits"));
    end.metric = await servedOk(service.url);
  });

  after(async () => {
    await service?.stop();
    await redis?.stop();
    await api?.close();
  });

  it("counts every successful GET / exactly: report, counter in Redis and the server's metrics agree", () => {
    const { total } = series.result;
    expect(total.ok).to.be.greaterThan(100);
    expect(total.errors).to.deep.equal({});
    expect(total.sent).to.equal(total.ok);
    // The two counter reads (before and after the load) are GET / too.
    expect(end.counter - start.counter).to.equal(total.ok + 2);
    expect(end.metric - start.metric).to.equal(total.ok + 2);
    expect(series.result.check).to.include({ exact: true, increments: total.ok, successes: total.ok });
    expect(series.result.check?.seenMin).to.equal(start.counter + 2);
    expect(series.result.check?.seenMax).to.equal(end.counter - 1);
  });

  it("keeps a per-second series that adds up to the totals, stage by stage", () => {
    const { buckets, result } = series;
    expect(buckets.reduce((sum, b) => sum + b.ok, 0)).to.equal(result.total.ok);
    expect(buckets.map((b) => b.t)).to.deep.equal(buckets.map((_, i) => i));
    expect(result.stages.map((s) => s.stage)).to.deep.equal(["warm", "surge"]);
    expect(result.stages.map((s) => s.connections)).to.deep.equal([4, 16]);
    expect(result.stages[0].ok + result.stages[1].ok).to.equal(result.total.ok);
    // Every answer named its pod: the single local process.
    expect(Object.values(result.pods).reduce((a, b) => a + b, 0)).to.equal(result.total.ok);
    expect(Object.keys(result.pods)).to.have.length(1);
    for (const b of buckets.filter((b) => b.answered > 0)) {
      expect(b.p50).to.be.at.most(b.p99 as number);
      expect(b.p99).to.be.at.most(b.max as number);
    }
  });

  it("records the HPA's scale-out on the run's time axis", () => {
    const { replicas } = series;
    expect(replicas[0]).to.include({ current: 1, desired: 1, cpu: 10, cpuTarget: 50 });
    expect(replicas.at(-1)).to.include({ current: 3, desired: 3, cpu: 140 });
    expect(replicas.at(-1)?.ready).to.have.length(3);
    expect(replicas.at(-1)?.t).to.be.within(0, 10);
  });

  it("prints the summary and writes JSON, CSV and HTML", async () => {
    expect(summary).to.match(/^stage +secs +conns/m);
    expect(summary).to.match(/^warm /m).and.match(/^surge /m).and.match(/^total /m);
    expect(summary).to.include("-> exact");
    expect(summary).to.include("1 -> peak 3 -> 3 replicas");
    const written = JSON.parse(await readFile(path.join(out, "series.json"), "utf8")) as Series;
    expect(written).to.deep.equal(series);
    const csv = (await readFile(path.join(out, "series.csv"), "utf8")).trim().split("\n");
    expect(csv[0]).to.match(/^t,stage,answered,ok,errors,p50_ms/);
    expect(csv).to.have.length(series.buckets.length + 1);
  });

  describe("the HTML report in headless Chromium", () => {
    let browser: Browser;
    before(async () => {
      browser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
        // This machine's network is closed: no background or update traffic, or Chromium stalls on it.
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    });
    after(() => browser?.close());

    it("draws every chart from the run's data, with no console error", async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("requestfailed", (request) => problems.push(`request ${request.url()}`));
      await page.goto(`file://${path.join(out, "report.html")}`);

      // SVG geometry as the browser laid it out (the DOM types are not in this project's lib).
      type Geometry = { getBBox(): { width: number }; getTotalLength(): number };
      const lines = await page.$$eval("path.line", (paths) =>
        paths.map((p) => {
          const box = (p as unknown as Geometry).getBBox();
          return {
            chart: p.closest("svg")?.id,
            series: p.getAttribute("data-series"),
            points: Number(p.getAttribute("data-points")),
            moves: (p.getAttribute("d") ?? "").split(/[ML]/).filter((s: string) => s.trim()).length,
            length: (p as unknown as Geometry).getTotalLength(),
            width: box.width,
          };
        }),
      );
      const line = (chart: string, name: string) => lines.find((l) => l.chart === chart && l.series === name);
      const answered = series.buckets.filter((b) => b.p50 !== null).length;

      expect(line("chart-rate", "ok")).to.include({ points: series.buckets.length, moves: series.buckets.length });
      expect(line("chart-latency", "p99")).to.include({ points: answered });
      expect(line("chart-replicas", "current")?.points).to.equal(series.replicas.length);
      expect(line("chart-cpu", "cpu")?.points).to.equal(series.replicas.length);
      expect(line("chart-pods", Object.keys(series.result.pods)[0])?.points).to.equal(series.buckets.length);
      for (const drawn of lines.filter((l) => l.points > 1)) {
        expect(drawn.length, `${drawn.chart} ${drawn.series}`).to.be.greaterThan(50);
        expect(drawn.width, `${drawn.chart} ${drawn.series}`).to.be.greaterThan(50);
      }
      // The replica staircase really climbs: its highest point is above its first.
      const replicaYs = await page.$eval('#chart-replicas path[data-series="current"]', (p) =>
        [...(p.getAttribute("d") ?? "").matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1])),
      );
      expect(Math.min(...replicaYs)).to.be.lessThan(replicaYs[0]);

      const rows = await page.$$eval("#summary tbody tr", (trs) => trs.map((tr) => tr.querySelector("td")?.textContent));
      expect(rows).to.deep.equal(["warm", "surge", "total"]);
      expect(await page.textContent("#check")).to.include("exact");
      const bars = await page.$$eval("#chart-pod-totals rect.bar", (rects) => rects.map((r) => Number(r.getAttribute("data-value"))));
      expect(bars).to.deep.equal([series.result.total.ok]);

      const screenshot = path.join(out, "report.png");
      await page.screenshot({ path: screenshot, fullPage: true });
      // Six charts of lines and text compress to far more than a blank or broken page would.
      expect((await stat(screenshot)).size).to.be.greaterThan(60_000);
      expect(problems).to.deep.equal([]);
      await page.close();
    });
  });
});
