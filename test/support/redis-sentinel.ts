// A primary, two replicas and three Sentinels watching them on free loopback ports, as the stack runs
// them in Kubernetes: one password for the data nodes and the sentinels, every node announced by a
// host name (sentinels with resolve-hostnames and announce-hostnames answer it, not an IP). The
// sentinels call a primary down after 1 s without an answer, so a failover takes a few seconds.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RedisServer } from "./redis-server";

export interface ReplicatedRedisOptions {
  /** `requirepass` of every data node and sentinel, and what replicas and sentinels authenticate with. */
  password: string;
  /** More directives for every data node (e.g. ["--min-replicas-to-write", "1"]). */
  nodeArgs?: string[];
}

/** The name the sentinels monitor the primary by: the service's default REDIS_SENTINEL_MASTER. */
const masterName = "hit-counter";

// What every node announces, as a pod announces its DNS name (redis-0.redis-nodes.<ns>.svc...):
// a client must resolve it to connect. On this machine it is 127.0.0.1.
const announcedHost = "localhost";

function sentinelConfig(primaryPort: number, password: string): string {
  return [
    "sentinel resolve-hostnames yes",
    "sentinel announce-hostnames yes",
    `sentinel announce-ip ${announcedHost}`,
    `sentinel monitor ${masterName} ${announcedHost} ${primaryPort} 2`,
    `sentinel auth-pass ${masterName} ${password}`,
    // Sentinels that require a password need it from each other too.
    `sentinel sentinel-pass ${password}`,
    `sentinel down-after-milliseconds ${masterName} 1000`,
    // Also how long a sentinel waits before trying a failover again after one that stalled.
    `sentinel failover-timeout ${masterName} 3000`,
    "",
  ].join("\n");
}

/** The nodes redis-cli prints for SENTINEL MASTER or REPLICAS: key and value lines, each node's first key "name". */
function sentinelNodes(reply: string): Map<string, string>[] {
  const lines = reply.split("\n");
  const nodes: Map<string, string>[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === "name") nodes.push(new Map());
    nodes.at(-1)?.set(lines[i], lines[i + 1]);
  }
  return nodes;
}

export class ReplicatedRedis {
  private constructor(
    /** The data nodes; the first was the primary at the start. */
    readonly nodes: RedisServer[],
    readonly sentinels: RedisServer[],
    private readonly dir: string,
  ) {}

  /** Starts the primary, the replicas and the sentinels, and waits until each sentinel knows them all. */
  static async start(options: ReplicatedRedisOptions): Promise<ReplicatedRedis> {
    const { password } = options;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-sentinel-"));
    // A replica keeps the copy it loads from the primary in a file (not persistence: --save ""), here.
    const nodeArgs = (i: number) => ["--dir", dir, "--dbfilename", `node-${i}.rdb`, "--masterauth", password, "--replica-announce-ip", announcedHost, ...(options.nodeArgs ?? [])];
    const primary = await RedisServer.start({ password, args: nodeArgs(0) });
    const replicas = await Promise.all(
      [1, 2].map((i) => RedisServer.start({ password, args: [...nodeArgs(i), "--replicaof", announcedHost, String(primary.port)] })),
    );
    const sentinels = await Promise.all(
      [1, 2, 3].map((i) => {
        const file = path.join(dir, `sentinel-${i}.conf`);
        fs.writeFileSync(file, sentinelConfig(primary.port, password));
        return RedisServer.start({ password, sentinelConfig: file });
      }),
    );
    const set = new ReplicatedRedis([primary, ...replicas], sentinels, dir);
    await set.settled();
    return set;
  }

  /** REDIS_SENTINELS for the service. */
  get sentinelList(): string {
    return this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(",");
  }

  /** The host and port a running sentinel names for the primary, as it answers clients. */
  async primaryAddress(): Promise<{ host: string; port: number }> {
    const sentinel = this.sentinels.find((candidate) => candidate.running);
    if (!sentinel) throw new Error("no sentinel is running");
    const [host, port] = (await sentinel.cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName)).split("\n");
    return { host, port: Number(port) };
  }

  /** The data node the sentinels name as the primary. */
  async primary(): Promise<RedisServer> {
    const { port } = await this.primaryAddress();
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`the sentinels name port ${port}, none of the data nodes`);
    return node;
  }

  /** The data nodes other than the primary the sentinels name. */
  async replicas(): Promise<RedisServer[]> {
    const primary = await this.primary();
    return this.nodes.filter((node) => node !== primary);
  }

  /** Connections the sentinels have accepted so far, all together (this count's own included). */
  async sentinelConnections(): Promise<number> {
    let total = 0;
    for (const sentinel of this.sentinels) total += Number(/^total_connections_received:(\d+)/m.exec(await sentinel.cli("INFO", "stats"))?.[1]);
    return total;
  }

  /**
   * Waits until every sentinel sees the primary up, both replicas up and in sync, and the other two
   * sentinels: only then can they agree on a failover.
   */
  async settled(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const problem = await this.unsettled();
      if (problem === undefined) return;
      if (Date.now() > deadline) throw new Error(`sentinels not settled after ${timeoutMs} ms: ${problem}`);
      await sleep(100);
    }
  }

  /** Stops the sentinels first, so they start no failover while the data nodes go. */
  async stop(): Promise<void> {
    for (const server of [...this.sentinels, ...this.nodes]) await server.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** What keeps the set from being settled, or undefined. */
  private async unsettled(): Promise<string | undefined> {
    for (const sentinel of this.sentinels) {
      const [master] = sentinelNodes(await sentinel.cli("SENTINEL", "MASTER", masterName));
      const state = `sentinel on ${sentinel.port}: primary ${master.get("flags")}, ${master.get("num-other-sentinels")} other sentinels`;
      if (master.get("flags") !== "master" || master.get("num-other-sentinels") !== String(this.sentinels.length - 1)) return state;
      const replicas = sentinelNodes(await sentinel.cli("SENTINEL", "REPLICAS", masterName));
      // A replica's flags say "slave" alone while it is up.
      const up = replicas.filter((replica) => replica.get("flags") === "slave" && replica.get("master-link-status") === "ok");
      if (up.length !== this.nodes.length - 1) return `${state}, ${up.length} of ${replicas.length} replicas up and in sync`;
    }
    return undefined;
  }
}
