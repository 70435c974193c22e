// The service's settings, read once from the environment and validated before anything starts:
// a bad value stops the process with one line naming the variable and what it should be.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export interface RedisConfig {
  /** Where Redis is, without credentials: the password lives only in `password`, so logs can redact it. */
  url: string;
  password: string | undefined;
  /** Present when the connection is TLS (a rediss:// URL); the server's certificate is always verified. */
  tls: RedisTls | undefined;
  /** Upper bound for connecting and for each command, so a request never waits on Redis longer. */
  timeoutMs: number;
}

export interface RedisTls {
  /** REDIS_TLS_CA_FILE, for the log; undefined: Node's bundled public CAs are trusted. */
  caFile: string | undefined;
  /** The PEM certificates read from caFile, checked at startup. */
  ca: string | undefined;
}

export interface Config {
  port: number;
  redis: RedisConfig;
  counterKey: string;
  logLevel: LogLevel;
  /** Time from SIGTERM to forced exit; below Kubernetes' default terminationGracePeriodSeconds of 30. */
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  constructor(variable: string, expected: string, value: string) {
    super(`invalid configuration: ${variable} must be ${expected}, got ${JSON.stringify(value)}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env): Config {
  return {
    port: integer(env, "PORT", 3000, 1, 65535),
    redis: {
      ...redisAddress(env),
      timeoutMs: integer(env, "REDIS_TIMEOUT_MS", 1000, 50, 60_000),
    },
    counterKey: counterKey(env),
    logLevel: logLevel(env),
    shutdownGraceMs: integer(env, "SHUTDOWN_GRACE_SECONDS", 25, 1, 3600) * 1000,
  };
}

function integer(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(variable, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

// REDIS_URL is the one-line form, with rediss:// for TLS; REDIS_HOST/REDIS_PORT are the two-variable
// form, with REDIS_TLS=true for TLS. Accepting both forms at once would leave a reader guessing which one
// wins, so that is an error too.
function redisAddress(env: Env): Pick<RedisConfig, "url" | "password" | "tls"> {
  const password = env.REDIS_PASSWORD || undefined;
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === "") {
    const host = env.REDIS_HOST || "redis";
    if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
      throw new ConfigError("REDIS_HOST", "a host name or IP address", host);
    }
    const port = integer(env, "REDIS_PORT", 6379, 1, 65535);
    const tls = boolean(env, "REDIS_TLS");
    return { url: `${tls ? "rediss" : "redis"}://${host}:${port}`, password, tls: redisTls(env, tls) };
  }
  if (env.REDIS_HOST || env.REDIS_PORT) {
    throw new ConfigError("REDIS_URL", "unset when REDIS_HOST or REDIS_PORT is set", raw);
  }
  if (env.REDIS_TLS) {
    throw new ConfigError("REDIS_TLS", "unset when REDIS_URL is set (its scheme says it: rediss:// is TLS)", env.REDIS_TLS);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("REDIS_URL", "a URL like redis://host:6379", redact(raw));
  }
  if ((url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    throw new ConfigError("REDIS_URL", "a URL like redis://host:6379", redact(raw));
  }
  const urlPassword = decodeURIComponent(url.password) || undefined;
  url.password = "";
  return { url: url.toString(), password: password ?? urlPassword, tls: redisTls(env, url.protocol === "rediss:") };
}

function boolean(env: Env, variable: string): boolean {
  const raw = env[variable];
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new ConfigError(variable, "true or false", raw);
}

// A CA file without TLS would be silently unused: most likely TLS was meant, so say so.
function redisTls(env: Env, on: boolean): RedisTls | undefined {
  const caFile = env.REDIS_TLS_CA_FILE || undefined;
  if (!on) {
    if (caFile !== undefined) throw new ConfigError("REDIS_TLS_CA_FILE", "unset without TLS (REDIS_TLS=true or a rediss:// REDIS_URL)", caFile);
    return undefined;
  }
  return { caFile, ca: caFile === undefined ? undefined : caBundle(caFile) };
}

// Read now, so a missing or mangled bundle stops the process at startup instead of showing up later
// as an untrusted server.
function caBundle(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError("REDIS_TLS_CA_FILE", `a readable file (${(error as NodeJS.ErrnoException).code})`, file);
  }
  if (!isCertificateBundle(pem)) throw new ConfigError("REDIS_TLS_CA_FILE", "a file of PEM certificates (-----BEGIN CERTIFICATE-----)", file);
  return pem;
}

/**
 * True when `pem` holds at least one X.509 certificate in PEM and every one of them parses (a copy
 * and paste can truncate one). The stack checks its CA bundle setting with it too.
 */
export function isCertificateBundle(pem: string): boolean {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  try {
    for (const block of blocks) new X509Certificate(block);
  } catch {
    return false;
  }
  return blocks.length > 0;
}

// An unparseable URL may still hold a password; never echo it into an error line.
function redact(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, "//***@");
}

function counterKey(env: Env): string {
  const raw = env.COUNTER_KEY;
  if (raw === undefined || raw === "") return "hits";
  if (!/^[\x21-\x7e]{1,256}$/.test(raw)) {
    throw new ConfigError("COUNTER_KEY", "1 to 256 printable ASCII characters without spaces", raw);
  }
  return raw;
}

function logLevel(env: Env): LogLevel {
  const raw = env.LOG_LEVEL;
  if (raw === undefined || raw === "") return "info";
  const level = logLevels.find((candidate) => candidate === raw);
  if (!level) throw new ConfigError("LOG_LEVEL", `one of ${logLevels.join(", ")}`, raw);
  return level;
}
