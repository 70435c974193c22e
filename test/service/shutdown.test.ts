// SIGTERM, as Kubernetes sends it before killing a pod: requests already in flight finish, clients
// on keep-alive connections are told Connection: close instead of having them cut under their next
// request, new connections are refused after the last call, and the process exits 0 well within its
// grace period.
import { setTimeout as sleep } from "node:timers/promises";
import http from "node:http";
import { expect } from "chai";
import { acceptsConnections, httpGet, type HttpReply } from "../support/net";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";

describe("service shutdown", function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let service: ServiceProcess;

  before(async function () {
    redis = await RedisServer.start();
  });
  after(async function () {
    await service?.stop();
    await redis?.stop();
  });

  it("finishes slow in-flight requests after SIGTERM, serves the last call, then refuses new connections, and exits 0", async function () {
    // A command timeout longer than the pause below, so the slow requests are slow, not failed.
    service = await ServiceProcess.start({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: "10000", LOG_LEVEL: "info", SHUTDOWN_LAST_CALL_MS: "600" });
    const agent = new http.Agent({ keepAlive: true });
    expect((await httpGet(`${service.url}/readyz`, agent)).status).to.equal(200);

    // Redis holds every write for 2.5 s: each INCR, and so each GET /, is in flight that long.
    await redis.cli("CLIENT", "PAUSE", "2500", "WRITE");
    const inFlight = Array.from({ length: 5 }, () => httpGet(`${service.url}/`, agent));
    await sleep(500);
    const signalled = Date.now();
    service.signal("SIGTERM");
    await sleep(200);
    // A connection that a stale route still sends here within the last call is answered, and told to go.
    const lastCall = new http.Agent({ keepAlive: true });
    expect(await httpGet(`${service.url}/readyz`, lastCall)).to.deep.include({ status: 503, connection: "close" });
    lastCall.destroy();
    await sleep(800);
    expect(await acceptsConnections(service.port)).to.equal(false);

    const replies = await Promise.all(inFlight);
    for (const reply of replies) {
      expect(reply.status).to.equal(200);
      expect(reply.connection).to.equal("close");
    }
    const counts = replies.map((reply) => Number(/visited (\d+) times/.exec(reply.body)?.[1])).sort();
    expect(counts).to.deep.equal([1, 2, 3, 4, 5]);

    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
    expect(Date.now() - signalled).to.be.below(10_000);
    const messages = service.logs().map((line) => line.msg);
    expect(messages).to.include.members(["shutting down", "shutdown complete"]);
    agent.destroy();
  });

  it("fails no request of clients that keep using their keep-alive connections through SIGTERM: each is told Connection: close", async function () {
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
    await redis.cli("DEL", "hits");
    // Like a load agent or a proxy's pool: each client reuses one connection, a request every 5 ms.
    const client = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const replies: HttpReply[] = [];
      try {
        while (replies.at(-1)?.connection !== "close") {
          replies.push(await httpGet(`${service.url}/`, agent));
          await sleep(5);
        }
        return replies;
      } finally {
        agent.destroy();
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await sleep(300);
    service.signal("SIGTERM");
    const replies = (await Promise.all(clients)).flat();
    expect(replies.map((reply) => reply.status)).to.deep.equal(replies.map(() => 200));
    expect(Number(await redis.cli("GET", "hits"))).to.equal(replies.length);
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
  });

  it("gives up on requests still in flight when the grace period ends, and says so", async function () {
    service = await ServiceProcess.start({
      REDIS_URL: redis.url,
      REDIS_TIMEOUT_MS: "10000",
      SHUTDOWN_GRACE_SECONDS: "1",
    });
    const agent = new http.Agent({ keepAlive: true });
    expect((await httpGet(`${service.url}/readyz`, agent)).status).to.equal(200);
    await redis.cli("CLIENT", "PAUSE", "10000", "WRITE");
    try {
      const stuck = httpGet(`${service.url}/`, agent).catch((error: Error) => error);
      await sleep(300);
      const signalled = Date.now();
      service.signal("SIGTERM");
      expect(await service.exited).to.deep.equal({ code: 1, signal: null });
      expect(Date.now() - signalled).to.be.within(900, 3000);
      expect(await stuck).to.be.instanceOf(Error);
      expect(service.logs().map((line) => line.msg)).to.include(
        "grace period over with requests still in flight; closing them",
      );
    } finally {
      await redis.cli("CLIENT", "UNPAUSE");
      agent.destroy();
    }
  });

  it("exits 0 at once on SIGINT with no connection open, and after the last call with an idle keep-alive one", async function () {
    service = await ServiceProcess.start({ REDIS_URL: redis.url });
    let signalled = Date.now();
    service.signal("SIGINT");
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
    expect(Date.now() - signalled).to.be.below(1000);

    service = await ServiceProcess.start({ REDIS_URL: redis.url });
    const agent = new http.Agent({ keepAlive: true });
    expect((await httpGet(`${service.url}/`, agent)).status).to.equal(200);
    signalled = Date.now();
    service.signal("SIGINT");
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
    // The default last call is 2 s; the idle connection is closed when it ends.
    expect(Date.now() - signalled).to.be.within(1900, 3500);
    agent.destroy();
  });
});
