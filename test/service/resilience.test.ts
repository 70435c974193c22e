// Redis going away and coming back under a running service process: fast 503s instead of hanging
// requests, liveness unaffected, and recovery without a restart.
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { httpGet } from "../support/net";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";
import { SilenceableProxy } from "../support/tcp-proxy";

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

  it("answers 200, not 503, when its own process was held past the timeout while Redis's replies waited in its socket (a throttled or CPU-starved pod)", async function () {
    const before = Number((await timed(`${service.url}/`)).body.match(/visited (\d+) times/)?.[1]);
    // Redis holds the INCRs for 300 ms; meanwhile the service process is stopped for 1.5 s, so
    // the replies arrive while it cannot read them, and its 1 s timers are all due when it resumes.
    await redis.cli("CLIENT", "PAUSE", "300", "WRITE");
    const pages = Promise.all(Array.from({ length: 10 }, () => timed(`${service.url}/`)));
    await sleep(100);
    process.kill(service.pid, "SIGSTOP");
    await sleep(1500);
    process.kill(service.pid, "SIGCONT");
    const answers = await pages;
    expect(answers.map(({ status }) => status)).to.deep.equal(Array(10).fill(200));
    const visits = answers.map(({ body }) => Number(body.match(/visited (\d+) times/)?.[1])).sort((a, b) => a - b);
    expect(visits).to.deep.equal(Array.from({ length: 10 }, (_, i) => before + 1 + i));
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

describe("service when its Redis connection goes silent (a lost node, a partition, a frozen process)", function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let proxy: SilenceableProxy;

  beforeEach(async function () {
    redis = await RedisServer.start();
    proxy = await SilenceableProxy.start(redis.port);
  });
  afterEach(async function () {
    await proxy?.close();
    await redis?.stop();
  });

  it("drops a connection that stopped answering under load after 3 timeouts, dials again and counts every 200 exactly", async function () {
    const service = await ServiceProcess.start({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, LOG_LEVEL: "info" });
    const agent = new http.Agent({ keepAlive: true });
    try {
      for (let i = 0; i < 20; i++) expect((await httpGet(`${service.url}/`, agent)).status).to.equal(200);
      proxy.freezeOpenConnections();
      const frozenAt = performance.now();
      const answers: { status: number; at: number; ms: number }[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() - frozenAt < 7000) {
            const sent = performance.now();
            const { status } = await httpGet(`${service.url}/`, agent);
            answers.push({ status, at: sent - frozenAt, ms: performance.now() - sent });
          }
        }),
      );
      const failed = answers.filter(({ status }) => status !== 200);
      expect(new Set(failed.map(({ status }) => status))).to.deep.equal(new Set([503]));
      // Each request waits at most the 1 s timeout; the connection is given up 3 s after it went silent.
      expect(Math.max(...answers.map(({ ms }) => ms))).to.be.below(1500);
      const lastFailedAt = Math.max(...failed.map(({ at }) => at));
      expect(lastFailedAt).to.be.within(2000, 4000);
      const served = answers.filter(({ status }) => status === 200).length;
      expect(served).to.be.above(100);
      console.log(`      silent for ${(lastFailedAt / 1000).toFixed(1)} s: ${failed.length} of ${answers.length} requests answered 503, then ${served} answered 200`);
      // Nothing sent into the frozen connection reached Redis: the count is the 200s, and this one.
      expect((await httpGet(`${service.url}/`, agent)).body).to.match(new RegExp(`^Hello! This page has been visited ${20 + served + 1} times\\.`));
      expect(service.redisWarnings().filter((message) => message.startsWith("no reply from Redis for "))).to.have.lengthOf(1);
    } finally {
      agent.destroy();
      await service.stop();
    }
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
  });

  it("exits 0 on SIGTERM within a timeout while its Redis connection is silent, not at the grace period's SIGKILL", async function () {
    const service = await ServiceProcess.start({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    try {
      expect((await httpGet(`${service.url}/`, false)).status).to.equal(200);
      proxy.freezeOpenConnections();
      expect((await httpGet(`${service.url}/`, false)).status).to.equal(503);
      const stopping = performance.now();
      expect(await service.stop()).to.deep.equal({ code: 0, signal: null });
      // No connection is open, so the last call ends at once; the owed reply is waited for 1 s.
      expect(performance.now() - stopping).to.be.within(900, 2000);
    } finally {
      await service.stop();
    }
  });

  it("keeps a connection that answers, even when every WAIT says its replicas are missing (REDIS_WAIT_REPLICAS without a replica)", async function () {
    const service = await ServiceProcess.start({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_WAIT_REPLICAS: "1" });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const seen: number[] = [];
          while (performance.now() - started < 4500) seen.push((await httpGet(`${service.url}/`, agent)).status);
          return seen;
        }),
      );
      expect(new Set(statuses.flat())).to.deep.equal(new Set([503]));
      expect(service.redisWarnings().filter((message) => message.startsWith("no reply from Redis"))).to.deep.equal([]);
      expect(proxy.accepted).to.equal(1);
    } finally {
      agent.destroy();
      await service.stop();
    }
  });

  it("dials again when Redis accepts the connection and never answers the handshake, and is ready once it does", async function () {
    proxy.silenceNewConnections(true);
    const service = await ServiceProcess.spawn({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, LOG_LEVEL: "info" });
    try {
      await service.listening();
      const silent = await service.readiness(/^not ready: Redis is unavailable: no reply from Redis for \d+ ms: connecting again$/, 8000);
      expect(silent.status).to.equal(503);
      // It keeps trying while nothing answers: a second silent connection, given up in turn when a
      // probe finds it silent (requests and probes are what look; an idle service dials no one).
      const deadline = Date.now() + 8000;
      while (proxy.accepted < 3 && Date.now() < deadline) {
        expect((await httpGet(`${service.url}/readyz`, false)).status).to.equal(503);
        await sleep(200);
      }
      expect(proxy.accepted).to.equal(3);
      proxy.silenceNewConnections(false);
      const answered = performance.now();
      await service.ready(10_000);
      console.log(`      ready ${((performance.now() - answered) / 1000).toFixed(1)} s after Redis answered, on connection ${proxy.accepted}`);
      expect(proxy.accepted).to.be.at.least(4);
      expect((await httpGet(`${service.url}/`, false)).body).to.match(/^Hello! This page has been visited 1 times\./);
    } finally {
      await service.stop();
    }
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
  });
});
