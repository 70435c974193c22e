// The HTTP surface of the service, in-process against a real redis-server: what a browser, a
// Prometheus scrape and a kubelet probe each see.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { createApp } from "../../service/src/app";
import { createLogger } from "../../service/src/log";
import { Metrics } from "../../service/src/metrics";
import { CounterStore } from "../../service/src/store";
import { RedisServer } from "../support/redis-server";

interface Harness {
  url: string;
  metrics: Metrics;
  draining: boolean;
  close(): Promise<void>;
}

async function startApp(redis: RedisServer, hostname: string): Promise<Harness> {
  const metrics = new Metrics();
  const store = new CounterStore({ url: redis.url, password: undefined, tls: undefined, timeoutMs: 1000, waitReplicas: 0 }, "hits", {
    onError: () => undefined,
  });
  store.start();
  const harness = { draining: false } as Harness;
  const app = createApp({ store, metrics, log: createLogger("silent"), hostname, draining: () => harness.draining });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  harness.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  harness.metrics = metrics;
  // The store connects in the background; the tests start once the app says it can take traffic.
  while ((await fetch(`${harness.url}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
  harness.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  };
  return harness;
}

/** The value of one sample line of the Prometheus text format, or 0 when the series does not exist. */
function sample(exposition: string, series: string): number {
  const line = exposition.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("service HTTP surface", function () {
  let redis: RedisServer;
  let app: Harness;

  before(async function () {
    redis = await RedisServer.start();
    app = await startApp(redis, `pod<&>"'`);
  });
  after(async function () {
    await app?.close();
    await redis?.stop();
  });
  beforeEach(async function () {
    await redis.cli("DEL", "hits");
  });

  it("counts each GET / exactly once, with the value INCR returned, and escapes the host name", async function () {
    for (let expected = 1; expected <= 5; expected++) {
      const response = await fetch(`${app.url}/`);
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.equal("text/html; charset=utf-8");
      expect(await response.text()).to.equal(
        `Hello! This page has been visited ${expected} times. Served by pod: <b>pod&lt;&amp;&gt;&quot;&#39;</b>`,
      );
    }
    expect(await redis.cli("GET", "hits")).to.equal("5");
  });

  it("answers JSON when the client asks for it", async function () {
    const response = await fetch(`${app.url}/`, { headers: { Accept: "application/json" } });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ hits: 1, pod: `pod<&>"'` });
  });

  it("does not count HEAD /", async function () {
    const head = await fetch(`${app.url}/`, { method: "HEAD" });
    expect(head.status).to.equal(200);
    expect(await redis.cli("EXISTS", "hits")).to.equal("0");
  });

  it("answers 404 for unknown paths and 405 with Allow for other methods on known routes", async function () {
    expect((await fetch(`${app.url}/nope`)).status).to.equal(404);
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const response = await fetch(`${app.url}/`, { method });
      expect(response.status, method).to.equal(405);
      expect(response.headers.get("allow"), method).to.equal("HEAD, GET");
      expect(await response.text(), method).to.equal("Method Not Allowed");
    }
    const metricsPost = await fetch(`${app.url}/metrics`, { method: "POST" });
    expect(metricsPost.status).to.equal(405);
    const options = await fetch(`${app.url}/`, { method: "OPTIONS" });
    expect([options.status, options.headers.get("allow"), await options.text()]).to.deep.equal([200, "HEAD, GET", ""]);
    expect(await redis.cli("EXISTS", "hits")).to.equal("0");
  });

  it("matches a route whatever its case and with a trailing slash", async function () {
    expect([(await fetch(`${app.url}/HealthZ/`)).status, (await fetch(`${app.url}/readyz/`)).status]).to.deep.equal([200, 200]);
  });

  it("is live and ready while Redis answers, and not ready once shutdown begins", async function () {
    expect((await fetch(`${app.url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect([ready.status, await ready.text()]).to.deep.equal([200, "ready"]);
    app.draining = true;
    try {
      const draining = await fetch(`${app.url}/readyz`);
      expect([draining.status, await draining.text()]).to.deep.equal([503, "not ready: shutting down"]);
      expect(draining.headers.get("connection")).to.equal("close");
      expect((await fetch(`${app.url}/healthz`)).status).to.equal(200);
    } finally {
      app.draining = false;
    }
  });

  it("keeps a draining pod's /readyz 503s out of the request and error series", async function () {
    const before = await (await fetch(`${app.url}/metrics`)).text();
    app.draining = true;
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${app.url}/readyz`)).status).to.equal(503);
    } finally {
      app.draining = false;
    }
    const after = await (await fetch(`${app.url}/metrics`)).text();
    expect(sample(after, 'http_probe_requests_total{route="/readyz",status="503"}') - sample(before, 'http_probe_requests_total{route="/readyz",status="503"}')).to.equal(3);
    expect(after).not.to.match(/^http_requests_total\{[^}]*status="503"/m);
  });

  it("counts requests in /metrics by method, route pattern and status; probes and scrapes apart", async function () {
    const before = await (await fetch(`${app.url}/metrics`)).text();
    const requests: [string, string][] = [
      ["GET", "/"],
      ["GET", "/"],
      ["GET", "/"],
      ["HEAD", "/"],
      ["GET", "/healthz"],
      ["GET", "/healthz"],
      ["GET", "/readyz"],
      ["POST", "/"],
      ["GET", "/random-1"],
      ["GET", "/random-2?x=1"],
      ["GET", "/a/b/c"],
    ];
    for (const [method, path] of requests) await fetch(`${app.url}${path}`, { method });
    const response = await fetch(`${app.url}/metrics`);
    expect(response.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
    const after = await response.text();
    const delta = (series: string) => sample(after, series) - sample(before, series);

    expect(delta('http_requests_total{method="GET",route="/",status="200"}')).to.equal(3);
    expect(delta('http_requests_total{method="HEAD",route="/",status="200"}')).to.equal(1);
    expect(delta('http_probe_requests_total{route="/healthz",status="200"}')).to.equal(2);
    expect(delta('http_probe_requests_total{route="/readyz",status="200"}')).to.equal(1);
    // The scrape that read `before`.
    expect(delta('http_probe_requests_total{route="/metrics",status="200"}')).to.equal(1);
    expect(after).not.to.match(/^http_request(s_total|_duration_seconds_count)\{[^}]*route="\/(healthz|readyz|metrics)"/m);
    expect(delta('http_requests_total{method="POST",route="/",status="405"}')).to.equal(1);
    expect(delta('http_requests_total{method="GET",route="unmatched",status="404"}')).to.equal(3);
    expect(delta('http_request_duration_seconds_count{method="GET",route="/",status="200"}')).to.equal(3);
    expect(after).not.to.match(/random|\/a\/b\/c/);
    expect(after).to.match(/^process_cpu_seconds_total /m);
    expect(after).to.match(/^nodejs_eventloop_lag_seconds /m);
    expect(after).to.match(/^# TYPE redis_errors_total counter$/m);
  });
});
