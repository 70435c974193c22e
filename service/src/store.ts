// The counter in Redis. One client, shared by all requests: node-redis pipelines concurrent commands
// on its single connection, so there is no pool to size.
import { createClient } from "redis";
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
      socket: { connectTimeout: config.timeoutMs, reconnectStrategy: reconnectDelay },
      // Commands a hung Redis has not answered stay queued after their requests gave up (see run()):
      // past this many, new ones fail at once instead of growing the queue.
      commandsQueueMaxLength: 10_000,
      // 0 turns off node-redis' own per-command timeout (5 s by default); run() has a cheaper one.
      commandOptions: { timeout: 0 },
    });
    // node-redis emits 'error' for every dropped socket; with no listener, Node would throw it and
    // kill the process.
    this.client.on("error", (error: Error) => this.events.onError("connection", error));
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
    if (this.client.isOpen) await this.client.close();
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
      throw new StoreUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
