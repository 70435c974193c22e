// `pulumi up` interrupted while it creates the dev stack: by Ctrl-C (SIGINT: Pulumi's graceful cancel)
// and by a killed CI job (SIGKILL, the CLI and its plugins at once). After each, the documented recovery
// (docs/stacks-and-configuration.md: `pulumi cancel` and `npm run stack:recover` after a kill, then
// `pulumi up`) converges: the stack's objects and the state agree, nothing is left behind in the
// namespace, and the next preview changes nothing.
import * as path from "node:path";
import { expect } from "chai";
import { eventually, LocalCluster } from "../support/local-cluster";
import { projectRoot } from "../support/paths";
import { E2eProject, type PulumiCli } from "../support/e2e-project";

const namespace = "hitcounter-interrupted";

/** What `pulumi stack export` holds, as far as the suite reads it. */
interface Exported {
  deployment: {
    resources?: { type: string; id?: string }[];
    pending_operations?: { type: string; resource: { urn: string } }[];
  };
}

describe("end to end: `pulumi up` interrupted while creating resources, then repaired", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let cli: PulumiCli;

  /** namespace/name of every object of ours in the namespace, as the API server lists them. */
  async function objectsInCluster(): Promise<string[]> {
    const lists = await Promise.all([
      cluster.apps.listNamespacedDeployment({ namespace }),
      cluster.apps.listNamespacedStatefulSet({ namespace }),
      cluster.core.listNamespacedService({ namespace }),
      cluster.core.listNamespacedSecret({ namespace }),
      cluster.core.listNamespacedConfigMap({ namespace }),
      cluster.core.listNamespacedServiceAccount({ namespace }),
      cluster.core.listNamespacedPersistentVolumeClaim({ namespace }),
      cluster.networking.listNamespacedNetworkPolicy({ namespace }),
      cluster.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }),
      cluster.policy.listNamespacedPodDisruptionBudget({ namespace }),
    ]);
    // What Kubernetes itself puts in every namespace.
    const builtIn = new Set(["kube-root-ca.crt", "default"]);
    return lists
      .flatMap((list) => list.items.map((item) => item.metadata?.name ?? ""))
      .filter((name) => !builtIn.has(name))
      .map((name) => `${namespace}/${name}`)
      .sort();
  }

  async function exported(): Promise<Exported> {
    return JSON.parse((await cli.run("stack", "export")).stdout) as Exported;
  }

  /** IDs of the stack's namespaced Kubernetes objects, as the state records them. */
  function objectsInState(stack: Exported): string[] {
    return (stack.deployment.resources ?? [])
      .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:") && r.id?.startsWith(`${namespace}/`))
      .map((r) => r.id as string)
      .sort();
  }

  /** Starts `pulumi up` and interrupts it once the first Deployment exists, while the provider waits for it to roll out. */
  async function interruptedUp(signal: "SIGINT" | "SIGKILL") {
    const run = cli.start("up", "--yes", "--skip-preview");
    await eventually(
      "a Deployment created by `pulumi up`",
      async () => ((await cluster.apps.listNamespacedDeployment({ namespace })).items.length ? true : undefined),
      { timeoutMs: 300_000, intervalMs: 100 },
    );
    run.interrupt(signal);
    return run.exited;
  }

  async function recover() {
    const script = path.join(projectRoot, "scripts", "stack", "recover-interrupted-up.ts");
    return (await cli.exec(process.execPath, ["--import", "tsx", script, "dev"])).stdout;
  }

  /** The stack as a user finds it once repaired: converged, nothing orphaned, nothing pending. */
  async function expectConverged() {
    await cli.run("up", "--yes", "--skip-preview");
    await cli.run("preview", "--expect-no-changes");
    const stack = await exported();
    expect(stack.deployment.pending_operations ?? []).to.deep.equal([]);
    expect(await objectsInCluster()).to.deep.equal(objectsInState(stack));
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(deployment.status?.readyReplicas).to.equal(1);
  }

  before(async function () {
    cluster = new LocalCluster();
    project = E2eProject.create(cluster.kubeconfig);
    cli = project.cli();
    await cli.run("login", `file://${project.state}`);
    await cli.run("stack", "init", "dev");
    await cli.run("config", "set", "kubeContext", cluster.context);
    await cli.run("config", "set", "namespace", namespace);
    await cli.run("config", "set", "monitoringEnabled", "false");
    await cli.useLocalBuild(cluster.registry);
  });

  after(async function () {
    await cli?.run("destroy", "--yes", "--skip-preview").catch(() => undefined);
    project?.remove();
  });

  it("Ctrl-C (SIGINT): the CLI finishes what it started and stops; `pulumi up` then completes the stack", async function () {
    const { code, output } = await interruptedUp("SIGINT");
    console.log(`      SIGINT: exit ${code}, pending after it: ${JSON.stringify((await exported()).deployment.pending_operations ?? [])}`);
    expect(code, output).to.not.equal(0);
    expect(output).to.match(/cancel/i);
    expect(await recover()).to.include("no interrupted creates");
    await expectConverged();
  });

  it("a killed job (SIGKILL): the lock and the interrupted creates stay; `pulumi cancel` and `npm run stack:recover` clear them and `pulumi up` completes the stack", async function () {
    await cli.run("destroy", "--yes", "--skip-preview");
    expect(await objectsInCluster()).to.deep.equal([]);
    const { code } = await interruptedUp("SIGKILL");
    expect(code).to.equal(null);
    const pending = (await exported()).deployment.pending_operations ?? [];
    console.log(`      SIGKILL: pending after it: ${pending.map((op) => `${op.type} ${op.resource.urn.split("::").pop()}`).join(", ")}`);
    expect(pending.filter((op) => op.type === "creating")).to.have.length.above(0);
    // The killed update still holds the stack's lock: `pulumi cancel` releases it.
    await cli.run("cancel", "--yes");
    const repair = await recover();
    expect(repair).to.include("repaired: run `pulumi up`");
    await expectConverged();
  });
});
