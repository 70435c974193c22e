// The counter service as a real child process on a free loopback port, the way a container runs it:
// environment in, signals to stop it, exit code and JSON log lines out.
import { setTimeout as sleep } from "node:timers/promises";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { startInGroup } from "./cgroup";
import { freePort, httpGet, type HttpReply, waitForPort } from "./net";

const serviceDir = path.resolve(__dirname, "../../service");

/** Compiles the service into service/dist, for a `compiled` process. */
export function buildService(): void {
  execFileSync("npm", ["run", "build", "--silent", "--prefix", serviceDir], { stdio: "inherit" });
}

export interface SpawnOptions {
  /**
   * Run the compiled service (service/dist, from `npm run build --prefix service`) instead of its
   * TypeScript sources through tsx: what the image runs, and what a benchmark should measure.
   */
  compiled?: boolean;
  /** Node's own flags, before the script (e.g. --cpu-prof for a profile). */
  nodeArgs?: string[];
  /** A cgroup v1 group (its directory) to start in, so all of the process's memory is charged there. */
  cgroup?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServiceProcess {
  /** Everything the process wrote to stdout (its JSON log lines). */
  stdout = "";
  /** Everything the process wrote to stderr. */
  stderr = "";
  /** Settles when the process exits, whatever the reason. */
  readonly exited: Promise<Exit>;

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /**
   * Starts the service with `env` on top of a minimal environment, and a free PORT unless `env`
   * sets one. Does not wait for it to listen: use `ready()`.
   */
  static async spawn(env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<ServiceProcess> {
    const port = env.PORT === undefined ? await freePort() : Number(env.PORT);
    const args = [...(options.nodeArgs ?? []), ...(options.compiled ? ["dist/server.js"] : ["--import", "tsx", "src/server.ts"])];
    const command = options.cgroup ? startInGroup(options.cgroup, process.execPath, args) : { command: process.execPath, args };
    const child = spawn(command.command, command.args, {
      cwd: serviceDir,
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", PORT: String(port), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ServiceProcess(port, child);
  }

  /** Starts the service and waits until it is ready for traffic (listening and connected to Redis). */
  static async start(env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<ServiceProcess> {
    const service = await ServiceProcess.spawn(env, options);
    await service.ready();
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("service process has no pid");
    return this.child.pid;
  }

  /** Waits until the service accepts connections; fails with its output if it exits first. */
  async listening(timeoutMs = 20_000): Promise<void> {
    const died = this.exited.then((exit) => {
      throw new Error(`service exited (${JSON.stringify(exit)}) before listening:\n${this.stderr}${this.stdout}`);
    });
    await Promise.race([waitForPort(this.port, timeoutMs), died]);
  }

  /** Waits until GET /readyz answers 200, as a Kubernetes readiness probe would. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.listening(timeoutMs);
    while ((await this.probe()).status !== 200) {
      if (Date.now() > deadline) throw new Error(`service not ready after ${timeoutMs} ms:\n${this.stdout}`);
      await sleep(50);
    }
  }

  /** What /readyz says once it says `expected` (or matches it), or the last thing it said after timeoutMs. */
  async readiness(expected: string | RegExp, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status, body } = await this.probe();
      const ready = { status, body };
      const settled = typeof expected === "string" ? ready.body === expected : expected.test(ready.body);
      if (settled || Date.now() > deadline) return ready;
      await sleep(100);
    }
  }

  /**
   * GET /readyz on a connection of its own that ends with the answer, as the kubelet probes: a pooled
   * keep-alive one would stay open and hold a shutdown in its last call.
   */
  private probe(): Promise<HttpReply> {
    return httpGet(`${this.url}/readyz`, false);
  }

  /** The messages of the warn lines the service logged about Redis so far. */
  redisWarnings(): string[] {
    return this.logs()
      .filter((line) => line.msg === "redis error")
      .map((line) => (line.err as { message: string }).message);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited after timeoutMs; resolves with how it exited. */
  async stop(timeoutMs = 10_000): Promise<Exit> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** The JSON log lines written so far, parsed. */
  logs(): Record<string, unknown>[] {
    return this.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
