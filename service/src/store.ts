// The counter in Redis. One client, shared by all requests: node-redis pipelines concurrent commands
// on its single connection, so there is no pool to size. With REDIS_SENTINELS that client is
// node-redis' Sentinel client, which asks the sentinels where the primary is and follows a failover;
// it has the same commands and events, so the rest of the store does not care which one it is.
import { isIP } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { createClient, createSentinel, DisconnectsClientError, ErrorReply } from "@redis/client";
import type { DirectRedis, RedisConfig, SentinelRedis } from "./config";

/** Redis could not answer: the caller should say "try again later" (503), not "we broke" (500). */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown, message = `Redis is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`) {
    super(message, { cause });
    this.name = "StoreUnavailableError";
  }

  /** What the 503 page tells the user; the message, with the cause, is for the log and /readyz. */
  get publicReason(): string {
    return "the counter store (Redis) is not reachable";
  }
}

/**
 * Fewer replicas than REDIS_WAIT_REPLICAS acknowledged an INCR within the timeout. The primary did
 * count it and the replicas may still get it: the visit may well survive, it is only not known to.
 */
export class UnconfirmedIncrementError extends StoreUnavailableError {
  constructor(wanted: number, acknowledged: number, timeoutMs: number) {
    super(undefined, `the increment was not confirmed on ${wanted} replica(s) within ${timeoutMs} ms (${acknowledged} acknowledged)`);
    this.name = "UnconfirmedIncrementError";
  }

  override get publicReason(): string {
    return this.message;
  }
}

export type RedisErrorKind = "connection" | "command";

export interface StoreEvents {
  /** Every connection failure and every failed command, for the error counter and the log. */
  onError(kind: RedisErrorKind, error: Error): void;
}

// Reconnect after 100 ms, doubling to at most 2 s, with jitter so a fleet of pods does not reconnect
// in lockstep: Redis coming back is noticed within about 2 s.
function reconnectDelay(retries: number): number {
  return Math.min(100 * 2 ** retries, 2000) * (0.8 + Math.random() * 0.4);
}

/** The hit counter, kept in Redis: one INCR per visit, a PING for readiness. */
export class CounterStore {
  private readonly client;
  /** Whether a command can go to Redis now; when not, run() fails it at once. */
  private readonly connected: () => boolean;
  /** Why the last connection attempt failed, until one succeeds. */
  private connectionProblem: Error | undefined;
  /** Failed start() attempts in a row (only the sentinel client gives up connecting). */
  private failedStarts = 0;
  private restart: NodeJS.Timeout | undefined;
  private closed = false;
  /** The WAIT that will follow the INCRs sent so far in this event-loop turn (REDIS_WAIT_REPLICAS). */
  private nextWait: Promise<number> | undefined;
  /** Direct mode: since when the connection has owed a reply (a command's, or the handshake's) and sent none. */
  private owedSince: number | undefined;
  /** Whether a connect() of start() is still pending: its failure schedules the next start(). */
  private connecting = false;
  /** The commands awaiting a reply, each with when it is overdue; swept by `sweeper` while any are. */
  private readonly deadlines = new Set<{ due: number; timeoutMs: number; reject: (error: Error) => void }>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: RedisConfig,
    private readonly counterKey: string,
    private readonly events: StoreEvents,
  ) {
    const connectionFailed = (error: Error) => {
      this.connectionProblem = explain(error, config);
      this.events.onError("connection", this.connectionProblem);
    };
    if ("sentinels" in config) {
      const sentinel = sentinelClient(config);
      // The sentinel client stays ready when its connection to the primary drops, and would then
      // ask the sentinels again for every command, on a new connection each time. The connection's
      // own reconnect, +switch-master and the scan find the primary without that storm.
      this.connected = () => sentinel.isReady && sentinel.getMasterNode() !== undefined;
      this.client = sentinel;
    } else {
      const direct = directClient(config);
      this.connected = () => direct.isReady;
      this.client = direct;
      // A TCP connection is up and the handshake (HELLO, AUTH) is owed until the client is ready.
      direct.on("connect", () => (this.owedSince = performance.now()));
      direct.on("ready", () => (this.owedSince = undefined));
    }
    // node-redis emits 'error' for every dropped socket; with no listener, Node would throw it and
    // kill the process. The sentinel client also emits each failed query of a sentinel as a string
    // ("obseve client error: ...") just before the Error itself: only the Error counts.
    this.client.on("error", (error: unknown) => {
      if (error instanceof Error) connectionFailed(error);
    });
    this.client.on("ready", () => (this.connectionProblem = undefined));
  }

  /**
   * Connects in the background and keeps retrying: the service starts and answers /healthz even
   * while Redis is still coming up, and /readyz tells the orchestrator when it can take traffic.
   */
  start(): void {
    // The direct client retries by itself (reconnectDelay) and rejects here only when
    // redialIfSilent() destroys it mid-handshake; the sentinel client rejects (and closes) after one
    // failed search for the primary. Either way it is started again.
    this.connecting = true;
    this.client.connect().then(
      () => {
        this.connecting = false;
        this.failedStarts = 0;
      },
      (error: unknown) => {
        this.connecting = false;
        // Our own destroy() of a silent connection, already logged by redialIfSilent().
        if (!(error instanceof DisconnectsClientError)) this.events.onError("connection", explain(asError(error), this.config));
        if (!this.closed) this.restart = setTimeout(() => this.start(), reconnectDelay(this.failedStarts++));
      },
    );
  }

  /** Adds one to the counter atomically and returns the new value, as Redis computed it. */
  increment(): Promise<number> {
    const replicas = this.config.waitReplicas;
    if (replicas === 0) return this.run(() => this.client.incr(this.counterKey));
    // The shared WAIT may take the whole timeout, and an INCR sent while another WAIT holds the
    // connection waits for that one first: twice the timeout before giving up.
    return this.run(async () => {
      const [hits, acknowledged] = await Promise.all([this.client.incr(this.counterKey), this.replicasAcknowledging(replicas)]);
      if (acknowledged < replicas) throw new UnconfirmedIncrementError(replicas, acknowledged, this.config.timeoutMs);
      return hits;
    }, 2 * this.config.timeoutMs);
  }

  // WAIT answers how many replicas have every write this connection sent before it, so one WAIT
  // after the INCRs of an event-loop turn confirms them all. Redis holds the connection while WAIT
  // waits, so one WAIT per INCR costs a replica round trip each: 6,500 to 9,300 INCR/s and 45 to 50 µs
  // of client CPU each on loopback with 50 in flight, against over 100,000 and under 5 µs with one
  // per turn. The WAIT goes out in the turn's check phase, after the INCRs, on the same connection
  // (the sentinel client's one to the primary); an INCR a failover caught on the old primary fails
  // by itself, whatever a WAIT on the new one says.
  private replicasAcknowledging(replicas: number): Promise<number> {
    this.nextWait ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.nextWait = undefined;
      return this.client.wait(replicas, this.config.timeoutMs);
    });
    return this.nextWait;
  }

  /** Resolves when Redis answers PING within the timeout. */
  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  /** Waits for commands already sent, then closes the connection; stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restart);
    if (!this.client.isOpen) return;
    // Not connected, nothing sent can still be answered; close() would wait forever for the reply
    // to a handshake the server cut short. Connected, the replies still owed after the timeout are
    // to requests run() has answered already: a silent Redis must not hold the exit.
    if (this.connected() && (await Promise.race([this.client.close().then(() => true), delay(this.config.timeoutMs, false, { ref: false })]))) return;
    await this.client.destroy();
  }

  private async run<T>(command: () => Promise<T>, timeoutMs = this.config.timeoutMs): Promise<T> {
    try {
      // The direct client fails a command at once while disconnected (disableOfflineQueue); the
      // sentinel client would hold it while it looks for the primary. Failing it here keeps both
      // fast, and keeps a queue from growing through a failover.
      if (!this.connected()) throw new Error("The client is offline");
      return await this.reply(command(), timeoutMs);
    } catch (error) {
      // A timeout, or a command refused at once while the handshake goes unanswered.
      this.redialIfSilent();
      this.events.onError("command", asError(error));
      if (error instanceof StoreUnavailableError) throw error;
      // While disconnected, every command fails with "The client is offline"; the reason is why the
      // last connection failed.
      throw new StoreUnavailableError(this.connected() ? error : (this.connectionProblem ?? error));
    }
  }

  // A Redis that accepts the connection but does not answer must not hold requests forever. One
  // sweep every tenth of the timeout fails the commands overdue, rather than a timer per command:
  // Node re-arms its timer list whenever it empties, and a timer set and cleared per command cost
  // 23 of the 83 µs of CPU a request took (bench:service, quiet machine: 1.40x bare, 1.08x without).
  // node-redis' own per-command `timeout` is worse: an AbortSignal.timeout that fires even after
  // the reply came. Any reply, even a late one or an error Redis sends, shows the connection alive
  // (owedSince); an unconfirmed increment comes with both the INCR's reply and the WAIT's.
  private reply<T>(reply: Promise<T>, timeoutMs: number): Promise<T> {
    const now = performance.now();
    this.owedSince ??= now;
    return new Promise<T>((resolve, reject) => {
      const deadline = { due: now + timeoutMs, timeoutMs, reject };
      this.deadlines.add(deadline);
      this.sweeper ??= setInterval(() => this.sweep(), this.config.timeoutMs / 10).unref();
      reply.then(
        (value) => {
          this.deadlines.delete(deadline);
          this.owedSince = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.deadlines.delete(deadline);
          if (error instanceof ErrorReply || error instanceof UnconfirmedIncrementError) this.owedSince = undefined;
          reject(error);
        },
      );
    });
  }

  private sweep(): void {
    if (this.deadlines.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = performance.now();
    // Decided in the check phase, after the event loop has polled: a reply that came while the
    // process could not run (a throttled or CPU-starved pod) is read first, and is not mistaken for
    // a silent Redis just because the timers phase comes before the poll.
    setImmediate(() => {
      for (const deadline of this.deadlines) {
        if (deadline.due > now) continue;
        this.deadlines.delete(deadline);
        deadline.reject(new Error(`no reply within ${deadline.timeoutMs} ms`));
      }
    });
  }

  // A connection to a lost node, across a partition or to a frozen process stays open and silent:
  // TCP would retransmit for about 15 minutes before giving up on it, the requests' writes keep
  // node-redis' idle timeout from firing, and a handshake that is never answered is never retried.
  // So a connection that has owed a reply for 3 timeouts is dropped and dialled again. Direct mode
  // only: the sentinels replace a primary that stops answering, and the client follows them.
  private redialIfSilent(): void {
    if (this.owedSince === undefined || this.closed || "sentinels" in this.config) return;
    const silentMs = performance.now() - this.owedSince;
    if (silentMs < 3 * this.config.timeoutMs) return;
    this.owedSince = undefined;
    this.connectionProblem = new Error(`no reply from Redis for ${Math.round(silentMs)} ms: connecting again`);
    this.events.onError("connection", this.connectionProblem);
    this.client.destroy();
    if (!this.connecting) this.start();
  }
}

/** The options of a connection to a data node: the one client of the direct mode, the primary's in sentinel mode. */
function dataNodeOptions(config: RedisConfig) {
  return {
    password: config.password,
    // Without a queue, a command issued while Redis is down fails at once instead of piling up
    // in memory until Redis returns (or the process runs out of memory).
    disableOfflineQueue: true,
    socket: { connectTimeout: config.timeoutMs, reconnectStrategy: reconnectDelay },
    // Commands a hung Redis has not answered stay queued after their requests gave up (see run()):
    // past this many, new ones fail at once instead of growing the queue.
    commandsQueueMaxLength: 10_000,
  };
}

// 0 turns off node-redis' own per-command timeout (5 s by default); run() has a cheaper one.
const commandOptions = { timeout: 0 };

function directClient(config: DirectRedis) {
  const options = dataNodeOptions(config);
  return createClient({ ...options, url: config.url, socket: { ...options.socket, ...tlsOptions(config) }, commandOptions });
}

// How the sentinel client follows a failover (node-redis 6.3): the sentinel it subscribes to
// publishes +switch-master when a replica is promoted, and the client then asks again and connects
// to the new primary, by the name the sentinels announce. Commands in flight when the primary's
// socket drops fail, as with the direct client.
function sentinelClient(config: SentinelRedis) {
  return createSentinel({
    name: config.masterName,
    sentinelRootNodes: config.sentinels,
    nodeClientOptions: dataNodeOptions(config),
    // The sentinels' connections: one subscribed, a short one for each query. connectTimeout bounds
    // only the TCP connect; a sentinel that accepts and never answers (a frozen pod) would hold the
    // search for the primary forever, so a connection silent for 3 timeouts is dropped, and the
    // subscribed one, quiet between events, sends a PING every timeout to stay below that.
    sentinelClientOptions: {
      password: config.password,
      socket: { connectTimeout: config.timeoutMs, socketTimeout: 3 * config.timeoutMs },
      pingInterval: config.timeoutMs,
    },
    // Errors of the connection to the primary as 'error' too ("Master Client (host:port): ..."),
    // not only as an internal event: they say why it is not ready.
    passthroughClientErrorEvents: true,
    commandOptions,
    // The one connection to the primary reserved for every command. Otherwise each command takes a
    // lease on it from a pool and the last one in flight gives it back: commands that come together
    // while none is held get the lease one after another, each waiting for the one before (50 in
    // flight on loopback: 13,000 INCR/s and 40 to 48 µs of CPU each, reserved 160,000 and 4 µs).
    reserveClient: true,
    // By default a command that failed because the primary went away is sent again after the
    // client has looked for the primary again, up to 16 times: an INCR the old primary had applied
    // but not answered would count twice, long after its request was answered 503. 0 also makes one
    // failed search for the primary final: start() and the triggers below search again.
    maxCommandRediscovers: 0,
    // Besides +switch-master, the client asks the sentinels again this often: the backstop for a
    // message missed, when the subscribed sentinel went down with the primary (a sentinel runs in
    // each Redis pod). A scan is one short connection to a sentinel, and new commands wait for its
    // round trip. Measured on loopback, kill to the last failed request: 3.3 to 4.4 s with the
    // sentinels up, 3.9 to 5.9 s with the subscribed one killed along with the primary.
    scanInterval: 2000,
  });
}

// Node sends the server name (SNI) only when it is given one, and never an IP address; managed Redis
// endpoints behind shared front ends route by it. The certificate is checked against the same name
// (or the IP), with rejectUnauthorized at Node's default: true.
function tlsOptions({ url, tls }: DirectRedis): { tls: true; ca: string | undefined; servername: string | undefined } | undefined {
  if (!tls) return undefined;
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  return { tls: true, ca: tls.ca, servername: isIP(host) ? undefined : host };
}

// OpenSSL's verdicts on a certificate chain that ends at no CA the client trusts.
const untrustedChain = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
]);

/**
 * A refusal that only a configuration change fixes (a certificate signed by another CA or for another
 * host, a wrong or missing password), said with the variable to look at; other errors as they are.
 */
function explain(error: Error, config: RedisConfig): Error {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const tls = "sentinels" in config ? undefined : config.tls;
  if (untrustedChain.has(code)) {
    const trusted = tls?.caFile ? `a CA in REDIS_TLS_CA_FILE (${tls.caFile})` : "a CA Node trusts (set REDIS_TLS_CA_FILE to the server's CA bundle)";
    // Without Node's hint to try --use-system-ca: the CAs to trust come from REDIS_TLS_CA_FILE here.
    return new Error(`the server's TLS certificate is not signed by ${trusted}: ${error.message.split(";")[0]}`);
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new Error(`the server's TLS certificate is not for this host (check REDIS_HOST or REDIS_URL): ${error.message}`);
  }
  // Anywhere in the message: the sentinel client puts the node's name first.
  if (error.message.includes("WRONGPASS")) return new Error(`Redis refused the password (check REDIS_PASSWORD): ${error.message}`);
  if (error.message.includes("NOAUTH")) return new Error(`Redis requires a password (set REDIS_PASSWORD): ${error.message}`);
  if ("sentinels" in config) {
    // What node-redis' sentinel client says when the sentinels answer without a primary to use.
    if (error.message.startsWith("ERR No such master")) {
      return new Error(`the sentinels monitor no primary named ${config.masterName} (check REDIS_SENTINEL_MASTER): ${error.message}`);
    }
    if (error.message === "no valid master node") {
      return new Error(`the sentinels know no primary that is up (a failover may be under way): ${error.message}`);
    }
  }
  return error;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
