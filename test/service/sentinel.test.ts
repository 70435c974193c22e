// The service finding its Redis through Sentinel, as the stack runs it: a real primary, two replicas
// and three sentinels on loopback (test/support/redis-sentinel.ts), the service as a real process.
// It counts through them, says why it is not ready, names REDIS_PASSWORD when refused, follows a
// failover after SIGKILL of the primary, and with REDIS_WAIT_REPLICAS confirms each increment on a
// replica or answers 503. The tests share one set of Redis processes and run in order: the failover
// leaves one replica, which is what the last test needs.
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { CounterStore } from "../../service/src/store";
import { ReplicatedRedis } from "../support/redis-sentinel";
import { ServiceProcess } from "../support/service-process";

const password = "sentinel-test-password";
const unavailable = "Service Unavailable: the counter store (Redis) is not reachable; try again shortly.";

interface Answer {
  status: number;
  body: string;
  /** When it came, in ms since the test's clock started. */
  at: number;
  ms: number;
}

/** GET `path` with a JSON Accept header, timed against `epoch` (performance.now() at the start). */
async function get(url: string, epoch = performance.now()): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.text();
  const now = performance.now();
  return { status: response.status, body, at: now - epoch, ms: now - started };
}

function hitsOf(answer: Answer): number {
  return (JSON.parse(answer.body) as { hits: number }).hits;
}

describe("service through Redis Sentinel", function () {
  this.timeout(60_000);
  let redis: ReplicatedRedis;
  let service: ServiceProcess;
  const services: ServiceProcess[] = [];

  /** A service that finds the primary through the sentinels, with `env` on top; stopped after the suite. */
  async function spawn(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const started = await ServiceProcess.spawn({ REDIS_SENTINELS: redis.sentinelList, REDIS_PASSWORD: password, ...env });
    services.push(started);
    await started.listening();
    return started;
  }

  before(async function () {
    redis = await ReplicatedRedis.start({ password });
    service = await spawn();
    await service.ready();
  });
  after(async function () {
    await Promise.all(services.map((started) => started.stop()));
    await redis?.stop();
  });

  it("counts 200 concurrent requests to exactly 200 on the primary, which it reaches by the host name the sentinels announce", async function () {
    const primary = await redis.primary();
    expect(await redis.primaryAddress()).to.deep.equal({ host: "localhost", port: primary.port });
    const answers = await Promise.all(Array.from({ length: 200 }, () => get(`${service.url}/`)));
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array(200).fill(200));
    const values = answers.map(hitsOf);
    expect(new Set(values).size).to.equal(200);
    expect([Math.min(...values), Math.max(...values)]).to.deep.equal([1, 200]);
    expect(await primary.cli("GET", "hits")).to.equal("200");
  });

  it("starts before the sentinels do, live but not ready, and becomes ready once they answer", async function () {
    for (const sentinel of redis.sentinels) await sentinel.stop();
    const early = await spawn();
    expect((await get(`${early.url}/healthz`)).status).to.equal(200);
    const refused = /^not ready: Redis is unavailable: connect ECONNREFUSED 127\.0\.0\.1:\d+$/;
    const down = await early.readiness(refused);
    expect(down.status).to.equal(503);
    expect(down.body).to.match(refused);
    for (const sentinel of redis.sentinels) await sentinel.restart();
    // node-redis' sentinel client gives up after one round of the sentinels; the store starts it again.
    await early.ready(10_000);
    expect((await get(`${early.url}/`)).status).to.equal(200);
    expect(await early.stop()).to.deep.equal({ code: 0, signal: null });
    await redis.settled();
  });

  it("is not ready, saying why, while the sentinels name no primary by REDIS_SENTINEL_MASTER", async function () {
    const unknown = await spawn({ REDIS_SENTINEL_MASTER: "no-such-primary" });
    const reason = "Redis is unavailable: the sentinels monitor no primary named no-such-primary (check REDIS_SENTINEL_MASTER): ERR No such master with that name";
    expect(await unknown.readiness(`not ready: ${reason}`)).to.deep.equal({ status: 503, body: `not ready: ${reason}` });
    const page = await get(`${unknown.url}/`);
    expect([page.status, page.body]).to.deep.equal([503, JSON.stringify({ error: unavailable })]);
    expect(await unknown.stop()).to.deep.equal({ code: 0, signal: null });
  });

  it("is refused by the sentinels with a wrong password, names REDIS_PASSWORD, and logs neither password", async function () {
    const wrong = await spawn({ REDIS_PASSWORD: "not-the-password" });
    const refused = "Redis refused the password (check REDIS_PASSWORD): WRONGPASS invalid username-password pair or user is disabled.";
    expect(await wrong.readiness(`not ready: Redis is unavailable: ${refused}`)).to.deep.equal({ status: 503, body: `not ready: Redis is unavailable: ${refused}` });
    expect(wrong.redisWarnings()).to.include(refused);
    expect((await get(`${wrong.url}/`)).status).to.equal(503);
    expect(await wrong.stop()).to.deep.equal({ code: 0, signal: null });
    expect(wrong.stdout + wrong.stderr).not.to.include("not-the-password").and.not.to.include(password);
  });

  it("after SIGKILL of the primary under light load: fast 503s and /readyz 503 with the reason, then every request 2xx within 10 s, no acknowledged increment lost", async function () {
    const primary = await redis.primary();
    const before = Number(await primary.cli("GET", "hits"));
    const connectionsBefore = await redis.sentinelConnections();
    const epoch = performance.now();
    const pages: Answer[] = [];
    const probes: Answer[] = [];
    let loading = true;
    // Five clients one request at a time with 20 ms pauses: about 200 requests a second. And a probe
    // every 100 ms, as a kubelet's, faster.
    const clients = Array.from({ length: 5 }, async () => {
      while (loading) {
        pages.push(await get(`${service.url}/`, epoch));
        await sleep(20);
      }
    });
    const prober = (async () => {
      while (loading) {
        probes.push(await get(`${service.url}/readyz`, epoch));
        await sleep(100);
      }
    })();
    await sleep(1000);
    const killedAt = performance.now() - epoch;
    await primary.kill();
    // Until the failover is over: failures, then 3 s without one.
    const lastFailure = () => Math.max(-Infinity, ...pages.filter((page) => page.status !== 200).map((page) => page.at));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(lastFailure() > killedAt && performance.now() - epoch - lastFailure() > 3000)) await sleep(100);
    loading = false;
    await Promise.all([...clients, prober]);

    const failed = pages.filter((page) => page.status !== 200);
    const recovered = lastFailure() - killedAt;
    // Measured on loopback: 3.2 to 4.2 s (sentinels call the primary down after 1 s, node-redis waits
    // for the failover's end, +switch-master).
    expect(recovered, "ms from the kill to the last failed request").to.be.below(10_000);
    for (const page of failed) {
      expect([page.status, page.body]).to.deep.equal([503, JSON.stringify({ error: unavailable })]);
      // Nothing waits for the timeout (1 s): without a primary the store fails a command at once.
      expect(page.ms, "ms a failed request took").to.be.below(500);
    }
    // The store asks the sentinels when they publish a change and every 2 s (measured: 10 connections
    // over the run, 3 of them this count's own); node-redis alone would ask for every failed command
    // (measured: 210).
    expect((await redis.sentinelConnections()) - connectionsBefore, "connections the sentinels accepted").to.be.below(50);
    const notReady = probes.filter((probe) => probe.status !== 200);
    expect(notReady.map((probe) => probe.body)).to.include(
      "not ready: Redis is unavailable: the sentinels know no primary that is up (a failover may be under way): no valid master node",
    );
    for (const probe of notReady) expect([probe.status, probe.body]).to.match(/^503,not ready: Redis is unavailable: /);

    // With asynchronous replication an acknowledged INCR is lost if the primary dies after answering
    // but before the replica has it: a window of microseconds on loopback, never seen here. A lost
    // one would show twice: the new primary hands its number out again.
    const acknowledged = pages.filter((page) => page.status === 200).map(hitsOf);
    expect(new Set(acknowledged).size, "distinct values in 2xx answers").to.equal(acknowledged.length);
    const newPrimary = await redis.primary();
    expect(newPrimary).not.to.equal(primary);
    // Requests answered 503 may have counted too (their INCR ran, the reply was lost), hence at least.
    expect(Number(await newPrimary.cli("GET", "hits")) - before, "counter growth").to.be.at.least(acknowledged.length);
    expect((await get(`${service.url}/readyz`)).status).to.equal(200);
  });

  it("with REDIS_WAIT_REPLICAS=1, through the sentinels and directly, counts while a replica acknowledges and answers 503 saying so when none can", async function () {
    const primary = await redis.primary();
    // The second one directly: REDIS_URL to the primary, no sentinels.
    const waiting = await Promise.all([spawn({ REDIS_WAIT_REPLICAS: "1" }), spawn({ REDIS_SENTINELS: "", REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: "1" })]);
    await Promise.all(waiting.map((started) => started.ready()));
    const before = Number(await primary.cli("GET", "hits"));
    for (const started of waiting) {
      const page = await get(`${started.url}/`);
      expect(page.status, started.url).to.equal(200);
    }
    expect(Number(await primary.cli("GET", "hits"))).to.equal(before + 2);

    for (const replica of await redis.replicas()) await replica.stop();
    const unconfirmed = "Service Unavailable: the increment was not confirmed on 1 replica(s) within 1000 ms (0 acknowledged); try again shortly.";
    for (const started of waiting) {
      const page = await get(`${started.url}/`);
      expect([page.status, page.body], started.url).to.deep.equal([503, JSON.stringify({ error: unconfirmed })]);
      // WAIT held it for the whole REDIS_TIMEOUT_MS, and no longer than our timer allows.
      expect(page.ms).to.be.within(950, 2000);
    }
    // The primary counted them: not confirmed is not undone.
    expect(Number(await primary.cli("GET", "hits"))).to.equal(before + 4);
  });

  it("stops on SIGTERM with exit 0 after the failover, through the sentinels and directly", async function () {
    const exits = await Promise.all(services.map((started) => started.stop()));
    expect(exits).to.deep.equal(services.map(() => ({ code: 0, signal: null })));
  });
});

describe("service store with a frozen sentinel", function () {
  it("gives up on a sentinel that accepts connections but never answers after 3 timeouts, tries again, and stops trying once closed", async function () {
    // What a sentinel in a frozen pod does: the kernel accepts, nothing answers.
    let accepted = 0;
    const silent = net.createServer((socket) => {
      accepted++;
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    const errors: string[] = [];
    const store = new CounterStore({ sentinels: [{ host: "127.0.0.1", port }], masterName: "hit-counter", password: undefined, timeoutMs: 100, waitReplicas: 0 }, "hits", {
      onError: (_kind, error) => errors.push(error.message),
    });
    try {
      store.start();
      // The second attempt is under way once the first gave up.
      const deadline = Date.now() + 5000;
      while (accepted < 2 && Date.now() < deadline) await sleep(20);
      expect(errors).to.include("Socket timeout timeout. Expecting data, but didn't receive any in 300ms.");
      // close() waits for the attempt under way to fail; none follows it (the next would start
      // within 0.5 s).
      await store.close();
      await sleep(1000);
      expect(accepted).to.equal(2);
    } finally {
      silent.close();
    }
  });
});
