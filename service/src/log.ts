// Structured JSON logs on stdout, one object a line, for the cluster's log collector.
import pino from "pino";
import type { LogLevel } from "./config";

export type Logger = pino.Logger;

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    // The password can reach a log line only inside the effective config logged at startup. The CA
    // bundle is public, but kilobytes of PEM on one line; caFile beside it says where it came from.
    redact: { paths: ["config.redis.password", "config.redis.tls.ca"], censor: "[redacted]" },
  });
}
