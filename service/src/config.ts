// The service's settings, read once from the environment and validated before anything starts:
// a bad value stops the process with one line naming the variable and what it should be.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

interface RedisCommon {
  password: string | undefined;
  /** Upper bound for connecting and for each command, so a request never waits on Redis longer. */
  timeoutMs: number;
  /** Replicas that must acknowledge each INCR (Redis' WAIT) before the visit is answered; 0: none. */
  waitReplicas: number;
}

/** One Redis at a fixed address: REDIS_URL, or REDIS_HOST and REDIS_PORT. */
export interface DirectRedis extends RedisCommon {
  /** Where Redis is, without credentials: the password lives only in `password`, so logs can redact it. */
  url: string;
  /** Present when the connection is TLS (a rediss:// URL); the server's certificate is always verified. */
  tls: RedisTls | undefined;
}

/** A primary found through Redis Sentinel, which names a new one after a failover: REDIS_SENTINELS. */
export interface SentinelRedis extends RedisCommon {
  sentinels: RedisNode[];
  /** The name the sentinels monitor the primary by (`sentinel monitor <name> ...`). */
  masterName: string;
}

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisConfig = DirectRedis | SentinelRedis;

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
  /** Time after SIGTERM that the listener stays open and idle keep-alive connections stay up; below shutdownGraceMs. */
  shutdownLastCallMs: number;
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
      waitReplicas: integer(env, "REDIS_WAIT_REPLICAS", 0, 0, 10),
    },
    counterKey: counterKey(env),
    logLevel: logLevel(env),
    ...shutdown(env),
  };
}

function shutdown(env: Env): Pick<Config, "shutdownGraceMs" | "shutdownLastCallMs"> {
  const shutdownGraceMs = integer(env, "SHUTDOWN_GRACE_SECONDS", 25, 1, 3600) * 1000;
  // A short grace period alone shortens the last call's default too, rather than failing.
  const shutdownLastCallMs = integer(env, "SHUTDOWN_LAST_CALL_MS", Math.min(2000, shutdownGraceMs / 2), 0, 60_000);
  if (shutdownLastCallMs >= shutdownGraceMs) {
    throw new ConfigError("SHUTDOWN_LAST_CALL_MS", `below SHUTDOWN_GRACE_SECONDS (${shutdownGraceMs} ms)`, String(shutdownLastCallMs));
  }
  return { shutdownGraceMs, shutdownLastCallMs };
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

/** A part of RedisConfig as the variables that say where Redis is give it. */
type Address<T extends RedisConfig> = Omit<T, "timeoutMs" | "waitReplicas">;

// REDIS_URL is the one-line form, with rediss:// for TLS; REDIS_HOST/REDIS_PORT are the two-variable
// form, with REDIS_TLS=true for TLS; REDIS_SENTINELS finds the primary through Sentinel. Accepting two
// forms at once would leave a reader guessing which one wins, so that is an error too.
function redisAddress(env: Env): Address<DirectRedis> | Address<SentinelRedis> {
  const sentinels = env.REDIS_SENTINELS;
  if (sentinels) return sentinelAddress(env, sentinels);
  if (env.REDIS_SENTINEL_MASTER) {
    throw new ConfigError("REDIS_SENTINEL_MASTER", "unset without REDIS_SENTINELS (it names the primary the sentinels monitor)", env.REDIS_SENTINEL_MASTER);
  }
  const password = env.REDIS_PASSWORD || undefined;
  const raw = env.REDIS_URL;
  if (raw === undefined || raw === "") {
    const host = env.REDIS_HOST || "redis";
    if (!hostPattern.test(host)) throw new ConfigError("REDIS_HOST", "a host name or IP address", host);
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

// A host name or an IPv4 address, or an IPv6 address in brackets.
const hostPattern = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;

// REDIS_PASSWORD is the sentinels' password as well as the data nodes': the stack sets both alike.
function sentinelAddress(env: Env, raw: string): Address<SentinelRedis> {
  for (const variable of ["REDIS_URL", "REDIS_HOST", "REDIS_PORT"]) {
    const value = env[variable];
    if (value) throw new ConfigError(variable, "unset when REDIS_SENTINELS is set (the sentinels say where the primary is)", redact(value));
  }
  for (const variable of ["REDIS_TLS", "REDIS_TLS_CA_FILE"]) {
    const value = env[variable];
    if (value) throw new ConfigError(variable, "unset when REDIS_SENTINELS is set (TLS through Sentinel is not supported)", value);
  }
  return { sentinels: raw.split(",").map(sentinelNode), masterName: sentinelMaster(env), password: env.REDIS_PASSWORD || undefined };
}

function sentinelNode(entry: string): RedisNode {
  const match = /^(.+):(\d{1,5})$/.exec(entry.trim());
  const port = Number(match?.[2]);
  if (!match || !hostPattern.test(match[1]) || port < 1 || port > 65535) {
    throw new ConfigError("REDIS_SENTINELS", "a comma-separated list of host:port (a host name or IP address and a port from 1 to 65535 each)", entry);
  }
  // node-redis takes an IPv6 address without the brackets a URL needs.
  return { host: match[1].replace(/^\[(.*)\]$/, "$1"), port };
}

function sentinelMaster(env: Env): string {
  const raw = env.REDIS_SENTINEL_MASTER;
  if (raw === undefined || raw === "") return "hit-counter";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw)) throw new ConfigError("REDIS_SENTINEL_MASTER", "1 to 64 letters, digits, '.', '_' or '-'", raw);
  return raw;
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
