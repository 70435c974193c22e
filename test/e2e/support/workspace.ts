// A throwaway copy of the project driven through the Automation API: the real Pulumi CLI (built by
// scripts/tools.sh), a file state backend and passphrase secrets in a temp dir, and the program run
// inline (no Node language host can be built offline; the CLI talks to this process instead).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { projectRoot } from "./cluster";

const toolsBin = path.join(projectRoot, ".tools", "bin");

/** What the project copy holds: the program and the service it builds, nothing generated. */
const copied = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "service"];
const skipped = new Set(["node_modules", "dist"]);

export type StackConfig = Record<string, string | number | boolean | string[]>;

export class E2eProject {
  readonly dir: string;
  private readonly state: string;

  private constructor(
    readonly root: string,
    private readonly kubeconfig: string,
  ) {
    this.dir = path.join(root, "project");
    this.state = path.join(root, "state");
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
    return project;
  }

  /** A stack of this copy with `config` (keys without the project prefix) over Pulumi.yaml's defaults. */
  async stack(name: string, config: StackConfig): Promise<Stack> {
    // The copy's program, so it builds the copy's service/ (which a test may edit).
    const program = (await import(path.join(this.dir, "components", "stack.ts"))) as typeof import("../../../components/stack");
    const workspace = await LocalWorkspace.create({
      workDir: this.dir,
      program: async () => program.deployHitCounter(),
      pulumiCommand: await PulumiCommand.get({ root: path.dirname(toolsBin) }),
      envVars: this.env(),
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
      PULUMI_HOME: pulumiHome(),
      PULUMI_BACKEND_URL: `file://${this.state}`,
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

/** Where scripts/tools.sh installed the provider plugins. */
function pulumiHome(): string {
  return execFileSync(path.join(projectRoot, "scripts", "tools.sh"), ["pulumi-home"], { encoding: "utf8" }).trim();
}
