// The load engine against a bare HTTP server that counts connections: a stage is run as rounds of
// fresh connections, so a Service's new pods get their share (kube-proxy balances connections).
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Load } from "../../stress/load/load";
import { Recorder } from "../../stress/load/recorder";

describe("stress load: connections reopened every --reconnect", function () {
  this.timeout(20_000);
  let server: http.Server;
  let url: string;
  let connections = 0;
  let hits = 0;
  // Answer with Connection: close from this answer on, as a draining pod does.
  let closeAfter = Infinity;

  before(async () => {
    server = http.createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      if (hits + 1 >= closeAfter) res.setHeader("connection", "close");
      res.end(JSON.stringify({ hits: ++hits, pod: "pod-a" }));
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    connections = 0;
    hits = 0;
    closeAfter = Infinity;
  });

  async function run(seconds: number, reconnectSeconds: number) {
    const recorder = new Recorder(() => undefined);
    const plan = { url, stages: [{ name: "load", seconds, connections: 4 }], maxRequests: 1_000_000, timeoutSeconds: 5, reconnectSeconds };
    await new Load(plan, recorder).run();
    return recorder.totals();
  }

  it("opens the stage's connections anew each round, losing no answer between rounds", async () => {
    const { total } = await run(3, 1);
    expect(connections).to.equal(12);
    expect(total.errors).to.deep.equal({});
    expect(total.ok).to.equal(hits);
    expect(total.sent).to.equal(hits);
  });

  it("keeps one set of connections when the stage is shorter than --reconnect", async () => {
    const { total } = await run(2, 10);
    expect(connections).to.equal(4);
    expect(total.ok).to.equal(hits);
  });

  it("sends nothing more on a connection answered with Connection: close, and loses no request to it", async () => {
    closeAfter = 200;
    const { total } = await run(2, 10);
    expect(total.errors).to.deep.equal({});
    expect(total.sent).to.equal(hits);
    expect(total.ok).to.equal(hits);
    // Every answer from the 200th on closed its connection, and the next request went out on a new
    // one; the stage's end may close the last new one of each connection before it connects.
    expect(connections).to.be.within(hits - 199, 4 + hits - 199);
  });
});
