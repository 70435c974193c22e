// Structured JSON logs on stdout, one object a line, for the cluster's log collector.
import pino from "pino";
import type { LogLevel } from "./config";

export type Logger = pino.Logger;

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    // The password can reach a log line only inside the effective config logged at startup.
    redact: { paths: ["config.redis.password"], censor: "[redacted]" },
  });
}
