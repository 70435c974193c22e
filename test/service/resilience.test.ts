// Redis going away and coming back under a running service process: fast 503s instead of hanging
// requests, liveness unaffected, and recovery without a restart.
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";

async function timed(url: string): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  const response = await fetch(url);
  const body = await response.text();
  return { status: response.status, ms: performance.now() - started, body };
}

describe("service when Redis fails", function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let service: ServiceProcess;

  before(async function () {
    redis = await RedisServer.start({ password: "test-password" });
    service = await ServiceProcess.start({ REDIS_URL: redis.url, REDIS_PASSWORD: "test-password", LOG_LEVEL: "info" });
  });
  after(async function () {
    await service?.stop();
    await redis?.stop();
  });

  it("answers 503 fast on / and /readyz while Redis is down, stays live, and recovers by itself", async function () {
    expect((await timed(`${service.url}/`)).status).to.equal(200);

    await redis.kill();
    let unavailable = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const page = await timed(`${service.url}/`);
      expect(page.status).to.equal(503);
      expect(page.body).to.equal("Service Unavailable: the counter store (Redis) is not reachable; try again shortly.");
      expect(page.ms).to.be.below(1000);
      unavailable++;
      const ready = await timed(`${service.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect(ready.body).to.match(/^not ready: Redis is unavailable: /);
      expect(ready.ms).to.be.below(1000);
      expect((await timed(`${service.url}/healthz`)).status).to.equal(200);
    }

    await redis.restart();
    const restarted = Date.now();
    let page = await timed(`${service.url}/`);
    while (page.status === 503 && Date.now() - restarted < 10_000) {
      unavailable++;
      await sleep(100);
      page = await timed(`${service.url}/`);
    }
    // The reconnect backoff is capped at about 2 s, so a few seconds is the promise.
    expect(Date.now() - restarted).to.be.below(5000);
    // The restarted Redis kept nothing (no persistence in the test), so counting starts over.
    expect(page.body).to.match(/^Hello! This page has been visited 1 times\./);
    expect((await timed(`${service.url}/readyz`)).status).to.equal(200);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const commandErrors = metrics.match(/^redis_errors_total\{kind="command"\} (\d+)$/m);
    expect(Number(commandErrors?.[1])).to.be.at.least(10);
    expect(metrics).to.include(`http_requests_total{method="GET",route="/",status="503"} ${unavailable}\n`);
  });

  it("answers 503 within the 1 s timeout while Redis accepts commands but does not answer them", async function () {
    await redis.cli("CLIENT", "PAUSE", "3000", "WRITE");
    try {
      const page = await timed(`${service.url}/`);
      expect(page.status).to.equal(503);
      expect(page.ms).to.be.within(900, 1500);
      expect((await timed(`${service.url}/healthz`)).status).to.equal(200);
    } finally {
      await redis.cli("CLIENT", "UNPAUSE");
    }
  });

  it("starts before Redis does, live but not ready, and becomes ready when Redis comes up", async function () {
    const late = await RedisServer.start();
    await late.stop();
    const early = await ServiceProcess.spawn({ REDIS_URL: late.url });
    try {
      await early.listening();
      expect((await timed(`${early.url}/healthz`)).status).to.equal(200);
      expect((await timed(`${early.url}/readyz`)).status).to.equal(503);
      expect((await timed(`${early.url}/`)).status).to.equal(503);
      await late.restart();
      await early.ready(10_000);
      expect((await timed(`${early.url}/`)).body).to.match(/^Hello! This page has been visited 1 times\./);
    } finally {
      expect(await early.stop()).to.deep.equal({ code: 0, signal: null });
      await late.stop();
    }
  });

  it("never logs the Redis password", function () {
    expect(service.stdout).to.include('"password":"[redacted]"');
    expect(service.stdout + service.stderr).not.to.include("test-password");
  });
});
