// Configuration from the environment: defaults, the host-and-port and the Sentinel variables, and one
// exact line for each bad value, printed by the real process before it serves anything.
import { expect } from "chai";
import { ConfigError, loadConfig } from "../../service/src/config";
import { ServiceProcess } from "../support/service-process";

describe("service configuration", function () {
  it("has defaults that need no environment at all", function () {
    expect(loadConfig({})).to.deep.equal({
      port: 3000,
      redis: { url: "redis://redis:6379", password: undefined, tls: undefined, timeoutMs: 1000, waitReplicas: 0 },
      counterKey: "hits",
      logLevel: "info",
      shutdownGraceMs: 25_000,
      shutdownLastCallMs: 2000,
    });
  });

  it("keeps the last call below the grace period: half of a short one by default, and a set one must fit", function () {
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: "1" })).to.deep.include({ shutdownGraceMs: 1000, shutdownLastCallMs: 500 });
    expect(loadConfig({ SHUTDOWN_LAST_CALL_MS: "0" })).to.deep.include({ shutdownGraceMs: 25_000, shutdownLastCallMs: 0 });
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: "60", SHUTDOWN_LAST_CALL_MS: "10000" })).to.deep.include({ shutdownLastCallMs: 10_000 });
  });

  it("takes REDIS_HOST, REDIS_PORT and REDIS_PASSWORD", function () {
    const config = loadConfig({ REDIS_HOST: "cache.internal", REDIS_PORT: "6380", REDIS_PASSWORD: "s3cret" });
    expect(config.redis).to.deep.equal({ url: "redis://cache.internal:6380", password: "s3cret", tls: undefined, timeoutMs: 1000, waitReplicas: 0 });
  });

  it("moves a password out of REDIS_URL so the URL can be logged", function () {
    const config = loadConfig({ REDIS_URL: "redis://:p%40ss@10.0.0.7:6379/2" });
    expect(config.redis).to.deep.equal({ url: "redis://10.0.0.7:6379/2", password: "p@ss", tls: undefined, timeoutMs: 1000, waitReplicas: 0 });
  });

  it("turns TLS on with REDIS_TLS=true or a rediss:// REDIS_URL, trusting Node's public CAs without REDIS_TLS_CA_FILE", function () {
    const tls = { caFile: undefined, ca: undefined };
    expect(loadConfig({ REDIS_HOST: "cache.example.com", REDIS_PORT: "6380", REDIS_TLS: "true" }).redis).to.deep.include({ url: "rediss://cache.example.com:6380", tls });
    expect(loadConfig({ REDIS_URL: "rediss://cache.example.com:6380" }).redis).to.deep.include({ url: "rediss://cache.example.com:6380", tls });
    expect(loadConfig({ REDIS_TLS: "false" }).redis).to.deep.include({ url: "redis://redis:6379", tls: undefined });
  });

  it("finds the primary through the sentinels in REDIS_SENTINELS, by REDIS_SENTINEL_MASTER (hit-counter by default)", function () {
    expect(loadConfig({ REDIS_SENTINELS: "redis-sentinel:26379", REDIS_PASSWORD: "s3cret" }).redis).to.deep.equal({
      sentinels: [{ host: "redis-sentinel", port: 26379 }],
      masterName: "hit-counter",
      password: "s3cret",
      timeoutMs: 1000,
      waitReplicas: 0,
    });
    const config = loadConfig({ REDIS_SENTINELS: "127.0.0.1:26379, [::1]:26380", REDIS_SENTINEL_MASTER: "counter.v2_a-b", REDIS_WAIT_REPLICAS: "1" });
    expect(config.redis).to.deep.equal({
      sentinels: [
        { host: "127.0.0.1", port: 26379 },
        { host: "::1", port: 26380 },
      ],
      masterName: "counter.v2_a-b",
      password: undefined,
      timeoutMs: 1000,
      waitReplicas: 1,
    });
  });

  it("takes REDIS_WAIT_REPLICAS without Sentinel too", function () {
    expect(loadConfig({ REDIS_URL: "redis://10.0.0.7:6379", REDIS_WAIT_REPLICAS: "10" }).redis).to.deep.include({ url: "redis://10.0.0.7:6379", waitReplicas: 10 });
  });

  const badValues: [Record<string, string>, string][] = [
    [{ PORT: "abc" }, 'invalid configuration: PORT must be an integer from 1 to 65535, got "abc"'],
    [{ PORT: "70000" }, 'invalid configuration: PORT must be an integer from 1 to 65535, got "70000"'],
    [{ REDIS_PORT: "6379x" }, 'invalid configuration: REDIS_PORT must be an integer from 1 to 65535, got "6379x"'],
    [{ REDIS_HOST: "bad host" }, 'invalid configuration: REDIS_HOST must be a host name or IP address, got "bad host"'],
    [{ REDIS_URL: "http://x:1" }, 'invalid configuration: REDIS_URL must be a URL like redis://host:6379, got "http://x:1"'],
    [
      { REDIS_URL: "redis://:hunter2@" },
      'invalid configuration: REDIS_URL must be a URL like redis://host:6379, got "redis://***@"',
    ],
    [
      { REDIS_URL: "redis://a:1", REDIS_HOST: "b" },
      'invalid configuration: REDIS_URL must be unset when REDIS_HOST or REDIS_PORT is set, got "redis://a:1"',
    ],
    [
      { SHUTDOWN_GRACE_SECONDS: "2", SHUTDOWN_LAST_CALL_MS: "2000" },
      'invalid configuration: SHUTDOWN_LAST_CALL_MS must be below SHUTDOWN_GRACE_SECONDS (2000 ms), got "2000"',
    ],
    [{ SHUTDOWN_LAST_CALL_MS: "1.5" }, 'invalid configuration: SHUTDOWN_LAST_CALL_MS must be an integer from 0 to 60000, got "1.5"'],
    [{ REDIS_TLS: "yes" }, 'invalid configuration: REDIS_TLS must be true or false, got "yes"'],
    [
      { REDIS_URL: "redis://a:1", REDIS_TLS: "true" },
      'invalid configuration: REDIS_TLS must be unset when REDIS_URL is set (its scheme says it: rediss:// is TLS), got "true"',
    ],
    [
      { REDIS_TLS_CA_FILE: "/etc/redis-tls/ca.crt" },
      'invalid configuration: REDIS_TLS_CA_FILE must be unset without TLS (REDIS_TLS=true or a rediss:// REDIS_URL), got "/etc/redis-tls/ca.crt"',
    ],
    [
      { REDIS_TLS: "true", REDIS_TLS_CA_FILE: "/nonexistent/ca.crt" },
      'invalid configuration: REDIS_TLS_CA_FILE must be a readable file (ENOENT), got "/nonexistent/ca.crt"',
    ],
    [
      { REDIS_SENTINELS: "redis-sentinel" },
      'invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (a host name or IP address and a port from 1 to 65535 each), got "redis-sentinel"',
    ],
    [
      { REDIS_SENTINELS: "a:26379,b:0" },
      'invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (a host name or IP address and a port from 1 to 65535 each), got "b:0"',
    ],
    [
      { REDIS_SENTINELS: "a:26379,b:65536" },
      'invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (a host name or IP address and a port from 1 to 65535 each), got "b:65536"',
    ],
    [
      { REDIS_SENTINELS: "bad host:26379" },
      'invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (a host name or IP address and a port from 1 to 65535 each), got "bad host:26379"',
    ],
    [
      { REDIS_SENTINELS: "a:26379," },
      'invalid configuration: REDIS_SENTINELS must be a comma-separated list of host:port (a host name or IP address and a port from 1 to 65535 each), got ""',
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_URL: "redis://:s3cret@b:6379" },
      'invalid configuration: REDIS_URL must be unset when REDIS_SENTINELS is set (the sentinels say where the primary is), got "redis://***@b:6379"',
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_HOST: "b" },
      'invalid configuration: REDIS_HOST must be unset when REDIS_SENTINELS is set (the sentinels say where the primary is), got "b"',
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_PORT: "6379" },
      'invalid configuration: REDIS_PORT must be unset when REDIS_SENTINELS is set (the sentinels say where the primary is), got "6379"',
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_TLS: "true" },
      'invalid configuration: REDIS_TLS must be unset when REDIS_SENTINELS is set (TLS through Sentinel is not supported), got "true"',
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_TLS_CA_FILE: "/etc/redis-tls/ca.crt" },
      'invalid configuration: REDIS_TLS_CA_FILE must be unset when REDIS_SENTINELS is set (TLS through Sentinel is not supported), got "/etc/redis-tls/ca.crt"',
    ],
    [
      { REDIS_SENTINEL_MASTER: "hit-counter" },
      'invalid configuration: REDIS_SENTINEL_MASTER must be unset without REDIS_SENTINELS (it names the primary the sentinels monitor), got "hit-counter"',
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_SENTINEL_MASTER: "hit counter" },
      "invalid configuration: REDIS_SENTINEL_MASTER must be 1 to 64 letters, digits, '.', '_' or '-', got \"hit counter\"",
    ],
    [
      { REDIS_SENTINELS: "a:26379", REDIS_SENTINEL_MASTER: "m".repeat(65) },
      `invalid configuration: REDIS_SENTINEL_MASTER must be 1 to 64 letters, digits, '.', '_' or '-', got "${"m".repeat(65)}"`,
    ],
    [{ REDIS_WAIT_REPLICAS: "11" }, 'invalid configuration: REDIS_WAIT_REPLICAS must be an integer from 0 to 10, got "11"'],
    [
      { COUNTER_KEY: "two words" },
      'invalid configuration: COUNTER_KEY must be 1 to 256 printable ASCII characters without spaces, got "two words"',
    ],
    [
      { LOG_LEVEL: "loud" },
      'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [
      { REDIS_TIMEOUT_MS: "0" },
      'invalid configuration: REDIS_TIMEOUT_MS must be an integer from 50 to 60000, got "0"',
    ],
    [
      { SHUTDOWN_GRACE_SECONDS: "2.5" },
      'invalid configuration: SHUTDOWN_GRACE_SECONDS must be an integer from 1 to 3600, got "2.5"',
    ],
  ];

  for (const [env, message] of badValues) {
    it(`rejects ${JSON.stringify(env)}`, function () {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it("exits with status 2 and only that line, before listening", async function () {
    this.timeout(60_000);
    // The real process for a few of the cases above (each start costs seconds on a busy machine),
    // among them the one whose value holds a password.
    const cases = badValues.filter(([env]) => env.PORT === "abc" || env.LOG_LEVEL || env.REDIS_URL?.includes("hunter2"));
    expect(cases).to.have.length(3);
    const runs = cases.map(async ([env, message]) => {
      const service = await ServiceProcess.spawn(env);
      const exit = await service.exited;
      return { env, exit, stderr: service.stderr, stdout: service.stdout, message };
    });
    for (const { env, exit, stderr, stdout, message } of await Promise.all(runs)) {
      expect(exit, JSON.stringify(env)).to.deep.equal({ code: 2, signal: null });
      expect(stderr, JSON.stringify(env)).to.equal(`${message}\n`);
      expect(stdout, JSON.stringify(env)).to.equal("");
    }
  });
});
