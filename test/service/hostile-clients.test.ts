// Broken and hostile HTTP clients against the real service process: each gets the status a user
// would expect or a closed socket, none of them moves the counter, and a steady client beside them
// keeps being served (server.ts sets the limits; app.ts refuses bodies).
import http from "node:http";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "chai";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";

interface Exchange {
  /** Everything the server sent back. */
  answer: string;
  /** When the server closed the connection, from its opening; undefined if still open at the end. */
  closedAfterMs?: number;
}

/** Opens a connection, writes `chunks` spaced by `gapMs`, and waits up to `waitMs` for the server to close it. */
function exchange(port: number, chunks: string[], { gapMs = 0, waitMs = 2000 } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const opened = performance.now();
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    let closedAfterMs: number | undefined;
    socket.on("data", (data) => (answer += data.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closedAfterMs ??= performance.now() - opened;
      resolve({ answer, closedAfterMs });
    });
    void (async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs) await sleep(gapMs);
      }
    })();
    setTimeout(() => {
      if (!socket.destroyed) resolve({ answer });
      socket.destroy();
    }, waitMs);
  });
}

const statusOf = (answer: string) => answer.match(/^HTTP\/1\.1 (\d{3})/)?.[1];
const request = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

/** Sequential GET / on one keep-alive connection until `until` settles: each status and latency. */
async function steadyClient(port: number, until: Promise<unknown>): Promise<{ statuses: number[]; latencies: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  const latencies: number[] = [];
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const started = performance.now();
    statuses.push(
      await new Promise<number>((resolve) =>
        http.get({ host: "127.0.0.1", port, path: "/", agent }, (response) => response.resume().on("end", () => resolve(response.statusCode ?? 0))).on("error", () => resolve(0)),
      ),
    );
    latencies.push(performance.now() - started);
  }
  agent.destroy();
  return { statuses, latencies };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe("service against broken and hostile clients", function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let service: ServiceProcess;
  const counter = async () => Number((await redis.cli("GET", "hits")) || 0);

  before(async function () {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url }, { compiled: false });
  });
  after(async function () {
    await service?.stop();
    await redis?.stop();
  });

  it("answers each broken request as HTTP says, and counts only the valid ones", async function () {
    const before = await counter();
    const answers = {
      oversizeHeader: await exchange(service.port, [request(["GET / HTTP/1.1", "Host: x", `X-Big: ${"a".repeat(9000)}`])]),
      oversizeUrl: await exchange(service.port, [request([`GET /?${"a".repeat(9000)} HTTP/1.1`, "Host: x"])]),
      getWithBody: await exchange(service.port, [`${request(["GET / HTTP/1.1", "Host: x", "Content-Length: 5"])}hello`]),
      chunkedGet: await exchange(service.port, [`${request(["GET / HTTP/1.1", "Host: x", "Transfer-Encoding: chunked"])}5\r\nhello\r\n0\r\n\r\n`]),
      lengthAndChunked: await exchange(service.port, [`${request(["GET / HTTP/1.1", "Host: x", "Content-Length: 5", "Transfer-Encoding: chunked"])}0\r\n\r\n`]),
      http11WithoutHost: await exchange(service.port, [request(["GET / HTTP/1.1"])]),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([name, { answer }]) => [name, statusOf(answer)]))).to.deep.equal({
      oversizeHeader: "431",
      oversizeUrl: "431",
      getWithBody: "413",
      chunkedGet: "413",
      lengthAndChunked: "400",
      http11WithoutHost: "400",
    });
    expect(answers.getWithBody.answer).to.include("Payload Too Large: this service takes no request body.");
    expect(await counter()).to.equal(before);

    // HTTP/1.0 needs no Host: a valid visit, answered and closed.
    const http10 = await exchange(service.port, [request(["GET / HTTP/1.0"])]);
    expect(http10.answer).to.match(/^HTTP\/1\.1 200 OK[\s\S]*visited \d+ times/);
    expect(http10.closedAfterMs).to.be.a("number");
    // Three pipelined requests on one connection: three answers, in order.
    const pipelined = await exchange(service.port, [request(["GET / HTTP/1.1", "Host: x"]).repeat(3)], { waitMs: 1000 });
    const visits = [...pipelined.answer.matchAll(/visited (\d+) times/g)].map(([, n]) => Number(n));
    expect(visits).to.deep.equal([before + 2, before + 3, before + 4]);
    expect(await counter()).to.equal(before + 4);
  });

  it("cuts slowloris and silent connections with 408 within headersTimeout while a steady client is served", async function () {
    const before = await counter();
    const headerByByte = [..."GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100)];
    const attack = Promise.all([
      ...Array.from({ length: 100 }, () => exchange(service.port, headerByByte, { gapMs: 200, waitMs: 15_000 })),
      ...Array.from({ length: 200 }, () => exchange(service.port, [], { waitMs: 15_000 })),
    ]);
    const steady = await steadyClient(service.port, attack);
    const cut = await attack;
    expect(cut.map(({ answer }) => statusOf(answer))).to.deep.equal(cut.map(() => "408"));
    const closedAfter = cut.map(({ closedAfterMs }) => closedAfterMs ?? Infinity);
    // headersTimeout is 10 s, checked every second.
    expect(Math.min(...closedAfter)).to.be.above(9_500);
    expect(Math.max(...closedAfter)).to.be.below(12_000);
    expect(steady.statuses.every((status) => status === 200), `statuses ${[...new Set(steady.statuses)]}`).to.equal(true);
    const p99 = percentile(steady.latencies, 99);
    console.log(`      steady client beside 100 slowloris and 200 silent connections: ${steady.latencies.length} requests, p50 ${percentile(steady.latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(p99).to.be.below(50);
    expect(await counter()).to.equal(before + steady.statuses.length);
  });

  it("drops connections past 1,024 at once, and serves again when they are gone", async function () {
    const flood = Array.from({ length: 1100 }, () => exchange(service.port, [], { waitMs: 12_000 }));
    const cut = await Promise.all(flood);
    const dropped = cut.filter(({ answer, closedAfterMs }) => answer === "" && closedAfterMs !== undefined);
    const timedOut = cut.filter(({ answer }) => statusOf(answer) === "408");
    expect(dropped.length + timedOut.length).to.equal(1100);
    expect(dropped.length).to.be.within(1100 - 1024, 1100 - 1000);
    // Dropped on arrival, long before the accepted ones time out.
    const closedAt = (exchanges: Exchange[]) => exchanges.map(({ closedAfterMs }) => closedAfterMs ?? Infinity);
    expect(Math.max(...closedAt(dropped))).to.be.below(Math.min(...closedAt(timedOut)));
    expect((await fetch(`${service.url}/healthz`)).status).to.equal(200);
  });
});
