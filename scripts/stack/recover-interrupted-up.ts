// Repairs a stack whose `pulumi up` was killed while creating resources: `npm run stack:recover -- <stack>`.
// Pulumi keeps such creates as pending operations, since only the provider knows whether they
// happened, and `pulumi refresh` asks about each one interactively. Every Kubernetes object of this
// stack has a fixed name, so its ID is known without asking: each one is imported (refresh then keeps
// it if it exists, drops it if the create never reached the API server), and the rest (an image build)
// are cleared, to be redone by the next `pulumi up`. Nothing is created twice and nothing is orphaned.
import { execFileSync } from "node:child_process";

/** What `pulumi stack export` prints, as far as the repair reads it. */
export interface ExportedStack {
  deployment: {
    pending_operations?: { type: string; resource: { urn: string; type: string; inputs?: Record<string, unknown> } }[];
  };
}

export interface RecoveryPlan {
  /** [URN, provider ID] of each interrupted create whose ID follows from its inputs. */
  imports: [string, string][];
  /** URNs of interrupted creates to drop from the state: the next `up` creates them again. */
  cleared: string[];
}

/** A Kubernetes object's provider ID: namespace/name, or name for a cluster-scoped one. */
function kubernetesId(type: string, inputs: Record<string, unknown>): string | undefined {
  // A Helm release is named by its own fields; every other object by its metadata.
  const { name, namespace } = (type.startsWith("kubernetes:helm.sh/") ? inputs : inputs.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  if (typeof name !== "string" || name === "") return undefined;
  return typeof namespace === "string" && namespace !== "" ? `${namespace}/${name}` : name;
}

export function recoveryPlan(stack: ExportedStack): RecoveryPlan {
  const plan: RecoveryPlan = { imports: [], cleared: [] };
  for (const { type, resource } of stack.deployment.pending_operations ?? []) {
    if (type !== "creating") continue;
    const id = resource.type.startsWith("kubernetes:") ? kubernetesId(resource.type, resource.inputs ?? {}) : undefined;
    if (id) plan.imports.push([resource.urn, id]);
    else plan.cleared.push(resource.urn);
  }
  return plan;
}

function main(): void {
  const stackArgs = process.argv[2] ? ["--stack", process.argv[2]] : [];
  const pulumi = (...args: string[]) => execFileSync("pulumi", [...args, ...stackArgs, "--non-interactive"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const plan = recoveryPlan(JSON.parse(pulumi("stack", "export")) as ExportedStack);
  if (plan.imports.length === 0 && plan.cleared.length === 0) {
    console.log("no interrupted creates: `pulumi refresh` and `pulumi up` need no repair first");
    return;
  }
  for (const [urn, id] of plan.imports) console.log(`import ${id}  (${urn})`);
  for (const urn of plan.cleared) console.log(`clear  ${urn}`);
  // The flag takes one string each time; the CLI pairs them up as URN, ID, URN, ID, ...
  if (plan.imports.length) process.stdout.write(pulumi("refresh", "--yes", "--skip-preview", ...plan.imports.flatMap(([urn, id]) => ["--import-pending-creates", urn, "--import-pending-creates", id])));
  if (plan.cleared.length) process.stdout.write(pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates"));
  console.log("repaired: run `pulumi up`");
}

if (require.main === module) main();
