// The one Pulumi mocks module of the test suite: runs the real program (deployHitCounter) under
// mocks with a stack's configuration and returns every resource it declared, inputs resolved.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import yaml from "js-yaml";
import { projectRoot } from "./paths";
// The program declares nothing when imported, only when deployHitCounter() runs, so importing it
// before the mocks are set is safe; each run sets fresh mocks and config, then calls it.
import type { ClusterFacts, InspectCluster } from "../../components/cluster";
import { deployHitCounter, type StackOutputs } from "../../components/program";

const project = "hitcounter";

/** One declared resource: its Pulumi type and name, and its inputs with secrets still wrapped. */
export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The provider reference (urn::id) the resource is managed by; undefined for components. */
  provider?: string;
}

export interface ProgramRun {
  resources: DeclaredResource[];
  /** The kubeconfig contexts the program inspected. */
  contexts: string[];
  /** What it logged at warning level. */
  warnings: string[];
  outputs: Record<keyof StackOutputs, unknown>;
}

/** A config value as a stack file holds it; lists and objects reach the program as JSON. */
export type ConfigValue = string | number | boolean | string[] | Record<string, unknown>;

/** Pulumi.yaml's declared defaults, as the CLI would apply them: key -> value. */
export function projectDefaults(): Record<string, ConfigValue> {
  const file = yaml.load(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default: ConfigValue }>;
  };
  return Object.fromEntries(Object.entries(file.config).map(([key, decl]) => [key, decl.default]));
}

/** A stack file's values, keys without the project prefix. */
export function stackValues(stack: string): Record<string, ConfigValue> {
  const file = yaml.load(fs.readFileSync(path.join(projectRoot, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, ConfigValue>;
  };
  return Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key.replace(`${project}:`, ""), value]));
}

export interface RunOptions {
  /** Values set on top of the stack file, as `pulumi config set` would. */
  config?: Record<string, ConfigValue>;
  /** Keys among them that are secrets (`pulumi config set --secret`). */
  secretKeys?: string[];
  /** What the cluster offers; by default a cluster with everything the stacks need. */
  cluster?: ClusterFacts;
  /** Replaces the inspection itself, e.g. to fail as a missing context does. */
  inspect?: InspectCluster;
}

/** A cluster like minikube's or a cloud's with its add-ons: metrics-server, a default StorageClass, amd64 nodes. */
export const completeCluster: ClusterFacts = {
  servesMetrics: true,
  storageClasses: [{ name: "standard", isDefault: true }],
  nodePlatforms: ["linux/amd64"],
};

/** Runs the program for `stack` (Pulumi.<stack>.yaml over Pulumi.yaml's defaults) under mocks. */
export async function runProgram(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
  const resources: DeclaredResource[] = [];
  const contexts: string[] = [];
  const warnings: string[] = [];
  const declared = await evaluate(stack, options, { resources, contexts, warnings });
  const outputs = Object.fromEntries(
    await Promise.all(Object.entries(declared).map(async ([key, output]) => [key, await promiseOf(output as pulumi.Output<unknown>)])),
  ) as ProgramRun["outputs"];
  // Registrations still in flight (resources no output depends on) finish before we look.
  await pulumi.runtime.disconnect();
  return { resources, contexts, warnings, outputs };
}

/** Runs the program expecting it to refuse the config: its message, and how many resources it declared. */
export async function rejectedConfig(stack: string, options: RunOptions): Promise<{ message: string; declared: number }> {
  const resources: DeclaredResource[] = [];
  try {
    await evaluate(stack, options, { resources, contexts: [], warnings: [] });
  } catch (error) {
    return { message: (error as Error).message, declared: resources.length };
  }
  await pulumi.runtime.disconnect();
  throw new Error(`the program accepted ${JSON.stringify(options.config)}`);
}

async function evaluate(stack: string, options: RunOptions, seen: Pick<ProgramRun, "resources" | "contexts" | "warnings">): Promise<StackOutputs> {
  const { resources } = seen;
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        return { id: `${args.name}-id`, state: { ...unwrapSecrets(args.inputs), ...providerOutputs(args) } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    project,
    stack,
  );
  const values = { ...projectDefaults(), ...stackValues(stack), ...options.config };
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(values).map(([key, value]) => [`${project}:${key}`, typeof value === "string" ? value : JSON.stringify(value)])),
    (options.secretKeys ?? []).map((key) => `${project}:${key}`),
  );
  const warn = pulumi.log.warn;
  pulumi.log.warn = async (message: string) => {
    seen.warnings.push(message);
  };
  try {
    return await deployHitCounter(async (context) => {
      seen.contexts.push(context);
      return options.inspect ? options.inspect(context) : (options.cluster ?? completeCluster);
    });
  } finally {
    pulumi.log.warn = warn;
  }
}

// Manifests are free-form JSON to the assertions that walk them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = any;

/** The inputs (secrets unwrapped) of every declared resource of a type, e.g. "kubernetes:apps/v1:Deployment". */
export function declaredOfType(run: ProgramRun, type: string): Manifest[] {
  return run.resources.filter((r) => r.type === type).map((r) => unwrapSecrets(r.inputs));
}

/** The inputs (secrets unwrapped) of the one resource of a type and Pulumi name. */
export function declaredResource(run: ProgramRun, type: string, name: string): Manifest {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return unwrapSecrets(found[0].inputs);
}

/** What the providers would compute that the program reads back. */
function providerOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  switch (args.type) {
    case "docker:index/image:Image": {
      const repository = String(args.inputs.imageName).replace(/:[^:/]+$/, "");
      return { repoDigest: `${repository}@sha256:${"ab".repeat(32)}` };
    }
    case "pulumi-nodejs:dynamic/hitcounter:Password":
      return { value: `generated-${args.name}` };
    default:
      return {};
  }
}

/** The value of an Output, for tests (an Output's `apply` never runs after the test has ended). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

const secretSig = "1b47061264138c4ac30d75fd1eb44270";

/** True when an input arrived wrapped as a secret (kept encrypted in the state). */
export function isSecretInput(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.values(value).includes(secretSig);
}

/** The inputs with every secret wrapper replaced by its value. */
export function unwrapSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(unwrapSecrets) as T;
  if (typeof value !== "object" || value === null) return value;
  if (isSecretInput(value)) return unwrapSecrets((value as unknown as { value: T }).value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)])) as T;
}
