// A throwaway copy of the project, as a user's checkout: the real Pulumi CLI and plugins built by
// scripts/toolchain/tools.sh, a Pulumi home and file state backend of its own in a temp dir, passphrase
// secrets. Driven either as a user drives it (`cli()`: the `pulumi` binary, whose language host
// runs index.ts) or through an Automation API inline program (`stack()`), for the steps that need
// a program object in this process.
import { execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { extraCaCerts, standInImages } from "./standins";
import { projectRoot } from "./paths";

const toolsBin = path.join(projectRoot, ".tools", "bin");

/** What the project copy holds: the program, its stack files, the service it builds and the policy pack, nothing generated. */
const copied = ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "package.json", "tsconfig.json", "index.ts", "components", "service", "policy"];
const skipped = new Set(["node_modules", "dist"]);

export type StackConfig = Record<string, string | number | boolean | string[] | Record<string, unknown>>;

export class E2eProject {
  readonly dir: string;
  readonly state: string;
  private readonly home: string;

  private constructor(
    readonly root: string,
    private readonly kubeconfig: string,
  ) {
    this.dir = path.join(root, "project");
    this.state = path.join(root, "state");
    this.home = path.join(root, "pulumi-home");
  }

  /** Copies the project into a temp dir, so a test may edit the service's code without touching the clone. */
  static create(kubeconfig: string): E2eProject {
    const project = new E2eProject(fs.mkdtempSync(path.join(os.tmpdir(), "hitcounter-e2e-")), kubeconfig);
    fs.mkdirSync(project.state);
    for (const entry of copied) {
      fs.cpSync(path.join(projectRoot, entry), path.join(project.dir, entry), {
        recursive: true,
        filter: (source) => !skipped.has(path.basename(source)),
      });
    }
    // The program's imports, and the dynamic provider host the CLI starts in this directory.
    fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(project.dir, "node_modules"));
    // Credentials and stack selection stay in this home; the plugins are the ones tools.sh installed.
    fs.mkdirSync(project.home);
    fs.symlinkSync(path.join(pulumiHome(), "plugins"), path.join(project.home, "plugins"));
    return project;
  }

  /** The `pulumi` binary in the project copy, as a user runs it (after `pulumi login`). */
  cli(): PulumiCli {
    return new PulumiCli(this.dir, this.env());
  }

  /** An inline-program stack of this copy with `config` (keys without the project prefix) over Pulumi.yaml's defaults. */
  async stack(name: string, config: StackConfig): Promise<Stack> {
    // The copy's program, so it builds the copy's service/ (which a test may edit).
    const program = (await import(path.join(this.dir, "components", "program.ts"))) as typeof import("../../components/program");
    const workspace = await LocalWorkspace.create({
      workDir: this.dir,
      // The inline program runs in this process: it finds the cluster's context where the CLI's plugins do.
      program: async () => {
        process.env.KUBECONFIG = this.kubeconfig;
        return program.deployHitCounter();
      },
      pulumiCommand: await PulumiCommand.get({ root: path.dirname(toolsBin) }),
      envVars: { ...this.env(), PULUMI_BACKEND_URL: `file://${this.state}` },
    });
    const stack = await Stack.createOrSelect(name, workspace);
    await this.configure(stack, config);
    return stack;
  }

  /** Replaces the stack's config: the stack file is rewritten as a user would edit it. */
  async configure(stack: Stack, config: StackConfig): Promise<void> {
    const settings = await stack.workspace.stackSettings(stack.name);
    settings.config = Object.fromEntries(Object.entries(config).map(([key, value]) => [`hitcounter:${key}`, value])) as typeof settings.config;
    await stack.workspace.saveStackSettings(stack.name, settings);
  }

  /** The environment the CLI and its plugins run in: nothing from the user's Pulumi or kube setup. */
  private env(): Record<string, string> {
    return {
      PATH: `${toolsBin}:${process.env.PATH ?? ""}`,
      HOME: process.env.HOME ?? os.homedir(),
      PULUMI_HOME: this.home,
      PULUMI_CONFIG_PASSPHRASE: "e2e-only-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      KUBECONFIG: this.kubeconfig,
    };
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** One `pulumi` command's output and how long it took. */
export interface CliRun {
  stdout: string;
  stderr: string;
  seconds: number;
}

/** A running `pulumi` command: its exit, and a signal to its whole process group. */
export interface InterruptibleRun {
  exited: Promise<{ code: number | null; output: string }>;
  interrupt(signal: "SIGINT" | "SIGKILL"): void;
}

export class PulumiCli {
  constructor(
    readonly cwd: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Runs `pulumi <args>`; rejects with the command, its exit code and its output when it fails. */
  run(...args: string[]): Promise<CliRun> {
    return this.exec(path.join(toolsBin, "pulumi"), [...args, "--non-interactive"]);
  }

  /** Runs `command` where a user runs `pulumi`: in the project, with this CLI and its backend. */
  async exec(command: string, args: string[]): Promise<CliRun> {
    const started = performance.now();
    try {
      const { stdout, stderr } = await promisify(execFile)(command, args, {
        cwd: this.cwd,
        env: this.env,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      return { stdout, stderr, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      throw new Error(`${path.basename(command)} ${args.join(" ")} exited ${failed.code}:\n${failed.stderr ?? ""}\n${(failed.stdout ?? "").slice(-4000)}`, { cause: error });
    }
  }

  /**
   * Points the selected stack's image build at `registry` and the offline stand-in base image; npm
   * in the build stage gets the egress proxy's CA where there is one.
   */
  async useLocalBuild(registry: string): Promise<void> {
    const buildArgs = [`NODE_IMAGE=${standInImages().NODE_IMAGE}`];
    const extraCa = extraCaCerts();
    if (extraCa) buildArgs.push(`NPM_CA_PEM=${extraCa}`);
    await this.run("config", "set", "registryServer", registry);
    for (const [i, arg] of buildArgs.entries()) await this.run("config", "set", "--path", `imageBuildArgs[${i}]`, arg);
  }

  /**
   * Starts `pulumi <args>` in a process group of its own, as a terminal runs a command, so a test can
   * interrupt the CLI and its plugins together the way Ctrl-C (SIGINT) or a killed CI job (SIGKILL) does.
   */
  start(...args: string[]): InterruptibleRun {
    const child = spawn(path.join(toolsBin, "pulumi"), [...args, "--non-interactive"], { cwd: this.cwd, env: this.env, detached: true });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; output: string }>((resolve) => child.on("close", (code) => resolve({ code, output })));
    return { exited, interrupt: (signal) => process.kill(-(child.pid as number), signal) };
  }

  /** `pulumi <args> --json`, parsed. */
  async json<T>(...args: string[]): Promise<T> {
    return JSON.parse((await this.run(...args, "--json")).stdout) as T;
  }
}

/** Where scripts/toolchain/tools.sh installed the provider plugins. */
function pulumiHome(): string {
  return execFileSync(path.join(projectRoot, "scripts", "toolchain", "tools.sh"), ["pulumi-home"], { encoding: "utf8" }).trim();
}
