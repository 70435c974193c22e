// Several service processes sharing one Redis, as replicas behind a Service do: the count is exact
// because each hit is one atomic INCR and each page shows the value that INCR returned.
import { expect } from "chai";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";

describe("service replicas sharing one Redis", function () {
  this.timeout(90_000);
  let redis: RedisServer;
  let replicas: ServiceProcess[] = [];

  before(async function () {
    redis = await RedisServer.start();
    replicas = await Promise.all([1, 2, 3].map(() => ServiceProcess.start({ REDIS_URL: redis.url })));
  });
  after(async function () {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await redis?.stop();
  });

  it("counts 600 concurrent requests over 3 processes to exactly 600, each value once", async function () {
    const requests = Array.from({ length: 600 }, async (_, i) => {
      const response = await fetch(`${replicas[i % 3].url}/`, { headers: { Accept: "application/json" } });
      expect(response.status).to.equal(200);
      return ((await response.json()) as { hits: number }).hits;
    });
    const values = await Promise.all(requests);
    expect(new Set(values).size).to.equal(600);
    expect(Math.min(...values)).to.equal(1);
    expect(Math.max(...values)).to.equal(600);
    expect(await redis.cli("GET", "hits")).to.equal("600");
  });
});
