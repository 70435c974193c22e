// The counter in Redis. One client, shared by all requests: node-redis pipelines concurrent commands
// on its single connection, so there is no pool to size.
import { isIP } from "node:net";
import { createClient } from "@redis/client";
import type { RedisConfig } from "./config";

/** Redis could not answer: the caller should say "try again later" (503), not "we broke" (500). */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StoreUnavailableError";
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
  /** Why the last connection attempt failed, until one succeeds. */
  private connectionProblem: Error | undefined;

  constructor(
    private readonly config: RedisConfig,
    private readonly counterKey: string,
    private readonly events: StoreEvents,
  ) {
    this.client = createClient({
      url: config.url,
      password: config.password,
      // Without a queue, a command issued while Redis is down fails at once instead of piling up
      // in memory until Redis returns (or the process runs out of memory).
      disableOfflineQueue: true,
      socket: { connectTimeout: config.timeoutMs, reconnectStrategy: reconnectDelay, ...tlsOptions(config) },
      // Commands a hung Redis has not answered stay queued after their requests gave up (see run()):
      // past this many, new ones fail at once instead of growing the queue.
      commandsQueueMaxLength: 10_000,
      // 0 turns off node-redis' own per-command timeout (5 s by default); run() has a cheaper one.
      commandOptions: { timeout: 0 },
    });
    // node-redis emits 'error' for every dropped socket; with no listener, Node would throw it and
    // kill the process.
    this.client.on("error", (error: Error) => {
      this.connectionProblem = explain(error, config);
      this.events.onError("connection", this.connectionProblem);
    });
    this.client.on("ready", () => (this.connectionProblem = undefined));
  }

  /**
   * Connects in the background and keeps retrying: the service starts and answers /healthz even
   * while Redis is still coming up, and /readyz tells the orchestrator when it can take traffic.
   */
  start(): void {
    this.client.connect().catch((error: unknown) => this.events.onError("connection", asError(error)));
  }

  /** Adds one to the counter atomically and returns the new value, as Redis computed it. */
  increment(): Promise<number> {
    return this.run(() => this.client.incr(this.counterKey));
  }

  /** Resolves when Redis answers PING within the timeout. */
  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  /** Waits for commands already sent, then closes the connection; stops reconnecting. */
  async close(): Promise<void> {
    if (!this.client.isOpen) return;
    // Not connected, nothing sent can still be answered; close() would wait forever for the reply
    // to a handshake the server cut short.
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }

  // A Redis that accepts the connection but does not answer must not hold requests forever. The
  // timer is ours rather than node-redis' per-command `timeout` option: that one arms an
  // AbortSignal.timeout for every command, which fires (and builds a DOMException) even after the
  // reply came: about 5 % of the CPU time of a request in a profile at 5,000 requests a second.
  private async run<T>(command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
    });
    try {
      return await Promise.race([command(), timedOut]);
    } catch (error) {
      this.events.onError("command", asError(error));
      // While disconnected, every command fails with "The client is offline"; the reason is why the
      // last connection failed.
      throw new StoreUnavailableError(this.client.isReady ? error : (this.connectionProblem ?? error));
    } finally {
      clearTimeout(timer);
    }
  }
}

// Node sends the server name (SNI) only when it is given one, and never an IP address; managed Redis
// endpoints behind shared front ends route by it. The certificate is checked against the same name
// (or the IP), with rejectUnauthorized at Node's default: true.
function tlsOptions({ url, tls }: RedisConfig): { tls: true; ca: string | undefined; servername: string | undefined } | undefined {
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
function explain(error: Error, { tls }: RedisConfig): Error {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (untrustedChain.has(code)) {
    const trusted = tls?.caFile ? `a CA in REDIS_TLS_CA_FILE (${tls.caFile})` : "a CA Node trusts (set REDIS_TLS_CA_FILE to the server's CA bundle)";
    // Without Node's hint to try --use-system-ca: the CAs to trust come from REDIS_TLS_CA_FILE here.
    return new Error(`the server's TLS certificate is not signed by ${trusted}: ${error.message.split(";")[0]}`);
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new Error(`the server's TLS certificate is not for this host (check REDIS_HOST or REDIS_URL): ${error.message}`);
  }
  if (error.message.startsWith("WRONGPASS")) return new Error(`Redis refused the password (check REDIS_PASSWORD): ${error.message}`);
  if (error.message.startsWith("NOAUTH")) return new Error(`Redis requires a password (set REDIS_PASSWORD): ${error.message}`);
  return error;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
