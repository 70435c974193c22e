// The process: read the config, connect, listen, and on SIGTERM/SIGINT drain and exit cleanly
// within the grace period. Runs as PID 1 in the container, so it handles the signals itself.
import http from "node:http";
import os from "node:os";
import { createApp } from "./app";
import { ConfigError, loadConfig, type Config } from "./config";
import { createLogger } from "./log";
import { Metrics } from "./metrics";
import { CounterStore } from "./store";

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
  const server = http.createServer(app.callback());

  store.start();
  server.listen(config.port, () => log.info({ config }, "listening"));
  server.on("error", (error) => {
    log.fatal({ err: error }, "server failed");
    process.exit(1);
  });

  async function shutdown(signal: NodeJS.Signals): Promise<void> {
    if (draining) return;
    draining = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    const deadline = setTimeout(() => {
      log.error("grace period over with requests still in flight; closing them");
      server.closeAllConnections();
      process.exit(1);
    }, config.shutdownGraceMs);
    // close() stops accepting and waits for every connection to end; idle keep-alive sockets are
    // closed now, busy ones after their response (which says Connection: close).
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await store.close();
    clearTimeout(deadline);
    log.info("shutdown complete");
    process.exit(0);
  }
  process.once("SIGTERM", (signal) => void shutdown(signal));
  process.once("SIGINT", (signal) => void shutdown(signal));
}

main();
