// The process: read the config, connect, listen, and on SIGTERM/SIGINT drain and exit cleanly
// within the grace period. Runs as PID 1 in the container, so it handles the signals itself.
import http from "node:http";
import os from "node:os";
import { createApp } from "./app";
import { ConfigError, loadConfig, type Config } from "./config";
import { createLogger } from "./log";
import { Metrics } from "./metrics";
import { CounterStore } from "./store";

/**
 * The HTTP server, with what one client may hold of the process limited (Node's default in brackets).
 * Past a limit Node answers 408 or 431 and closes, or drops the connection: nothing reaches the app.
 */
function createServer(handle: http.RequestListener): http.Server {
  const server = http.createServer(
    {
      // How often the timeouts below are checked [30 s]: at the default, 10 s would act at up to 40 s.
      connectionsCheckingInterval: 1_000,
      // Request line and headers together: 8 KiB, nginx's default buffer, is ample for these GETs [16 KiB].
      maxHeaderSize: 8 * 1024,
    },
    handle,
  );
  // A real client sends its headers in one packet; a slowloris trickle is cut with 408 [60 s].
  server.headersTimeout = 10_000;
  // No endpoint takes a body, so no request has a reason to last longer [300 s].
  server.requestTimeout = 15_000;
  // Over the 60 s idle timeout of the proxies that may sit in front (ALB, ingress-nginx): they close an
  // idle connection first and never send a request on one we are closing, which they would answer 502 [5 s].
  server.keepAliveTimeout = 65_000;
  // Connections past this are dropped: a flood of idle ones (each cut within headersTimeout) costs
  // bounded memory; a load agent opens 64 [unlimited].
  server.maxConnections = 1024;
  return server;
}

/**
 * Resolves after `ms`, or sooner once no connection is open. Meanwhile every response says
 * Connection: close, so a client that uses its keep-alive connection in that time learns from the
 * server that it ends, and a connection that a stale route still sends here is served. Closing an idle
 * keep-alive connection races the client's next request on it, which the client gets as ECONNRESET:
 * after the last call that race is left only to connections unused for all of it.
 */
function lastCall(server: http.Server, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const poll = setInterval(() => server.getConnections((error, open) => !error && open === 0 && done()), 50);
  });
}

function main(): void {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }

  const log = createLogger(config.logLevel);
  const metrics = new Metrics();
  const store = new CounterStore(config.redis, config.counterKey, {
    // Connection errors come at most once per reconnect attempt; failed commands come once per
    // request and would flood the log while Redis is down, so they show in the metric and at debug.
    onError(kind, error) {
      metrics.countRedisError(kind);
      log[kind === "connection" ? "warn" : "debug"]({ err: error, kind }, "redis error");
    },
  });
  let draining = false;
  const app = createApp({ store, metrics, log, hostname: os.hostname(), draining: () => draining });
  const server = createServer(app.callback());

  store.start();
  server.listen(config.port, () => log.info({ config }, "listening"));
  server.on("error", (error) => {
    log.fatal({ err: error }, "server failed");
    process.exit(1);
  });

  async function shutdown(signal: NodeJS.Signals): Promise<void> {
    if (draining) return;
    draining = true;
    log.info({ signal, graceMs: config.shutdownGraceMs, lastCallMs: config.shutdownLastCallMs }, "shutting down");
    const deadline = setTimeout(() => {
      log.error("grace period over with requests still in flight; closing them");
      server.closeAllConnections();
      process.exit(1);
    }, config.shutdownGraceMs);
    await lastCall(server, config.shutdownLastCallMs);
    // close() stops accepting, closes the connections idle now and waits for the busy ones.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    clearTimeout(deadline);
    log.info("shutdown complete");
    process.exit(0);
  }
  process.once("SIGTERM", (signal) => void shutdown(signal));
  process.once("SIGINT", (signal) => void shutdown(signal));
}

main();
