// Drives the stages with autocannon and feeds every answer to the recorder. A stage runs as rounds of
// at most reconnectSeconds, each an autocannon instance with connections of its own: kube-proxy
// balances connections, not requests, so only new connections reach the pods the HPA adds.
import autocannon from "autocannon";
import type { LoadPlan, Stage } from "./plan";
import { parseVisit } from "./page";
import type { Recorder } from "./recorder";

/**
 * autocannon 9's per-connection request cap (`responseMax`, what `maxOverallRequests` sets): once a
 * connection has made that many requests it closes after its next answer instead of sending again.
 * Lowering it to what was already sent is how a stage ends *gracefully*. autocannon's own stop
 * destroys sockets with requests in flight, which the server still counts: the counter would then
 * grow by more than the successes the client saw. Pinned by the exact autocannon version.
 */
interface Connection {
  reqsMade: number;
  responseMax?: number;
  destroy(): void;
  /** Closes the socket and opens a new one, sending the next request on it. */
  _resetConnection(): void;
  /** Sends the next request, unless the rate or responseMax says no. */
  _doRequest(): void;
  /** "request": before every write, the first one included; "done": closed for good; "response": an answer, before the next write. */
  on(event: "request" | "done" | "response", listener: () => void): unknown;
  /** An answer's status line and headers were parsed (http-parser-js' info). */
  on(event: "headers", listener: (info: { shouldKeepAlive: boolean }) => void): unknown;
}

/** What a request that got no HTTP answer failed with. */
export function failureKind(error: unknown): string {
  const err = error as { code?: unknown; message?: unknown };
  if (typeof err.code === "string") return err.code;
  if (typeof err.message === "string" && /timed out/i.test(err.message)) return "timeout";
  return typeof err.message === "string" ? err.message : String(error);
}

export class Load {
  private clients: Connection[] = [];
  private instance: autocannon.Instance | undefined;
  private roundTimer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(
    private readonly plan: LoadPlan,
    private readonly recorder: Recorder,
  ) {}

  /** Runs every stage in turn; resolves when the last one has drained (or the run was stopped). */
  async run(): Promise<void> {
    let sent = 0;
    for (const stage of this.plan.stages) {
      if (this.draining || sent >= this.plan.maxRequests) break;
      this.recorder.beginStage(stage);
      for (let left = stage.seconds; left > 0 && !this.draining && sent < this.plan.maxRequests; left -= this.plan.reconnectSeconds) {
        await this.runRound({ ...stage, seconds: Math.min(left, this.plan.reconnectSeconds) }, this.plan.maxRequests - sent);
        sent += this.clients.reduce((sum, client) => sum + client.reqsMade, 0);
      }
      this.recorder.endStage();
    }
    this.recorder.finish();
  }

  /** Ctrl-C: let requests in flight come back, then stop; the remaining stages are skipped. */
  drain(): void {
    this.draining = true;
    clearTimeout(this.roundTimer);
    this.drainRound();
  }

  /** Second Ctrl-C: cut the sockets now; answers in flight are lost (the counter check will say so). */
  stop(): void {
    this.draining = true;
    clearTimeout(this.roundTimer);
    this.instance?.stop();
  }

  private runRound(stage: Stage, budget: number): Promise<void> {
    this.clients = [];
    // autocannon itself lowers the connections to the rate, and to the budget it refuses fewer.
    const connections = Math.min(stage.connections, budget, stage.rate ?? Infinity);
    let closed = 0;
    return new Promise((resolve, reject) => {
      // Settles once: on the last connection closing or on autocannon's callback, whichever is first.
      // The timer is this round's own; the callback of a finished round must not touch the next one's.
      const timer = setTimeout(() => this.drainRound(), stage.seconds * 1000);
      this.roundTimer = timer;
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      this.instance = autocannon(
        {
          url: this.plan.url,
          connections,
          overallRate: stage.rate,
          maxOverallRequests: budget,
          timeout: this.plan.timeoutSeconds,
          // autocannon's own deadline is only the backstop for a drain that hangs: one timeout and a tick.
          duration: stage.seconds + this.plan.timeoutSeconds + 2,
          headers: { accept: "application/json" },
          requests: [
            {
              onResponse: (_status, body) => {
                const visit = parseVisit(body);
                if (visit) this.recorder.visit(visit);
              },
            },
          ],
          setupClient: (client) => {
            const connection = client as unknown as Connection;
            this.clients.push(connection);
            // setupClient runs before the connection's first write, so every request is counted.
            connection.on("request", () => this.recorder.sent());
            // A client that gets Connection: close sends nothing more on that connection (RFC 9112).
            // autocannon 9 writes its next request at once anyway, into the socket a draining pod is
            // closing, which loses it (silently, or as ECONNRESET); so it goes out on a new connection.
            let closing = false;
            connection.on("headers", (info) => (closing = !info.shouldKeepAlive));
            connection.on("response", () => {
              if (!closing) return;
              connection._resetConnection();
              // The reset has sent the next request already; the one autocannon sends after this
              // event would be a second, pipelined behind it.
              const next = connection._doRequest;
              connection._doRequest = () => (connection._doRequest = next);
            });
            // The round ends with its last connection, not at autocannon's next 1 s tick (when it
            // notices and calls back): that idle second would dilute the rate and delay the next round.
            connection.on("done", () => {
              if (++closed === connections) settle();
            });
          },
        },
        (error) => settle(error ? (error instanceof Error ? error : new Error(String(error))) : undefined),
      );
      this.instance.on("response", (_client, status, _bytes, latency) => this.recorder.answer(status, latency));
      this.instance.on("reqError", (error) => this.recorder.failure(failureKind(error)));
    });
  }

  private drainRound(): void {
    for (const client of this.clients) {
      // A connection that never sent has nothing in flight; responseMax 0 would mean "no cap".
      if (client.reqsMade === 0) client.destroy();
      else client.responseMax = client.reqsMade;
    }
  }
}
