// A real redis-server (or Sentinel) on a free loopback port, owned by one test suite or benchmark: started,
// killed, restarted on the same port (so clients that know its address can reconnect), and stopped.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { freePort, waitForPort } from "./net";

export interface RedisServerOptions {
  /** Require this password (`requirepass`). */
  password?: string;
  /** The redis-server binary; Debian's package puts it on PATH. */
  binary?: string;
  /** Persist in an append-only file in `dir`, fsynced as `appendfsync` says; none by default. */
  aof?: { dir: string; appendfsync: "everysec" | "always" };
  /** Serve TLS only (no plain port) with this certificate and key; redis-cli trusts `caFile`. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** More directives, as redis-server takes them after its own (e.g. ["--replicaof", "localhost", "6380"]). */
  args?: string[];
  /** Run as a Sentinel on this config file, which it rewrites with what it learns: a restart remembers it. */
  sentinelConfig?: string;
}

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = "";

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a redis-server (no persistence unless `aof`) on a free loopback port and waits until it accepts connections. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options);
    await server.restart();
    return server;
  }

  get url(): string {
    return `${this.options.tls ? "rediss" : "redis"}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The running server's process id, for what /proc says about it (its CPU time). */
  get pid(): number {
    if (this.child?.pid === undefined) throw new Error(`redis-server on port ${this.port} is not running`);
    return this.child.pid;
  }

  /** Starts the server again on the same port after `kill()` or `stop()`. */
  async restart(): Promise<void> {
    if (this.child) throw new Error(`redis-server on port ${this.port} is already running`);
    const { aof } = this.options;
    const persistence = aof ? ["--appendonly", "yes", "--appendfsync", aof.appendfsync, "--dir", aof.dir] : ["--appendonly", "no"];
    const { tls } = this.options;
    // Clients need no certificate of their own, as with a managed Redis.
    const listener = tls
      ? ["--port", "0", "--tls-port", String(this.port), "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile, "--tls-auth-clients", "no"]
      : ["--port", String(this.port)];
    const mode = this.options.sentinelConfig ? [this.options.sentinelConfig, "--sentinel"] : [];
    const args = [...mode, ...listener, "--bind", "127.0.0.1", "--save", "", ...persistence];
    if (this.options.password) args.push("--requirepass", this.options.password);
    args.push(...(this.options.args ?? []));
    const child = spawn(this.options.binary ?? "redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.output = "";
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    const exited = new Promise<never>((_, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}:\n${this.output}`)));
    });
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    await Promise.race([waitForPort(this.port, 10_000), exited]);
  }

  /** Runs one command with redis-cli (Debian's redis-tools, a dependency of redis-server) and returns its reply. */
  async cli(...command: string[]): Promise<string> {
    const auth = this.options.password ? ["--no-auth-warning", "-a", this.options.password] : [];
    const tls = this.options.tls ? ["--tls", "--cacert", this.options.tls.caFile] : [];
    const { stdout } = await promisify(execFile)("redis-cli", ["-p", String(this.port), ...tls, ...auth, ...command]);
    return stdout.trim();
  }

  /** SIGKILL: the abrupt loss a client must survive (no goodbye on the socket, no save). */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }
}
