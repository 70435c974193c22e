// The dev stack's backend on the local cluster's real node, for a benchmark: fixed replicas (no HPA),
// a NodePort on loopback, no monitoring, so only the number of pods varies. Deployed from a throwaway
// copy of the project (test/support/e2e-project.ts) and destroyed with it.
import { eventually, LocalCluster } from "../../test/support/local-cluster";
import { standInImages } from "../../test/support/standins";
import { E2eProject, type PulumiCli } from "../../test/support/e2e-project";

const realNodeName = "hitcounter-node";
export const backendSelector = "app.kubernetes.io/name=hit-counter,app.kubernetes.io/component=backend";

export class BenchStack {
  private constructor(
    readonly cluster: LocalCluster,
    readonly namespace: string,
    private readonly stack: string,
    private readonly project: E2eProject,
    private readonly cli: PulumiCli,
  ) {}

  /** A stack named `stack` in `namespace`, configured but not yet deployed; fails without the real node. */
  static async create(stack: string, namespace: string): Promise<BenchStack> {
    const cluster = new LocalCluster();
    const { items } = await cluster.core.listNode();
    if (!items.some((node) => node.metadata?.name === realNodeName)) {
      throw new Error("no real node in the local cluster: run `npm run cluster:up -- --real` first");
    }
    const project = E2eProject.create(cluster.kubeconfig);
    const cli = project.cli();
    const bench = new BenchStack(cluster, namespace, stack, project, cli);
    try {
      const redisImage = await cluster.pushImage(standInImages().REDIS_IMAGE, "redis", "bookworm");
      await cli.run("login", `file://${project.state}`);
      await cli.run("stack", "init", stack);
      await cli.run("config", "set", "kubeContext", cluster.context);
      await cli.run("config", "set", "namespace", namespace);
      await cli.useLocalBuild(cluster.registry);
      await cli.run("config", "set", "redisImage", redisImage);
      await cli.run("config", "set", "serviceType", "NodePort");
      await cli.run("config", "set", "monitoringEnabled", "false");
      await cli.run("config", "set", "cpuTargetUtilization", "0");
      await cli.run("config", "set", "memoryTargetUtilization", "0");
    } catch (error) {
      project.remove();
      throw error;
    }
    return bench;
  }

  /** The backend's Ready pods, none of them terminating. */
  async readyPods(): Promise<{ name: string; uid: string }[]> {
    const { items } = await this.cluster.core.listNamespacedPod({ namespace: this.namespace, labelSelector: backendSelector });
    return items
      .filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
      .map((pod) => ({ name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" }));
  }

  /** `pulumi up` with `pods` replicas; returns the NodePort URL once exactly that many are Ready. */
  async resize(pods: number): Promise<string> {
    await this.cli.run("config", "set", "minReplicas", String(pods));
    await this.cli.run("up", "--yes");
    await eventually(`${pods} Ready backend pods`, async () => ((await this.readyPods()).length === pods ? true : undefined), { timeoutMs: 300_000 });
    const service = await this.cluster.core.readNamespacedService({ name: "hit-counter", namespace: this.namespace });
    return `http://127.0.0.1:${service.spec?.ports?.[0]?.nodePort}/`;
  }

  /** `pulumi destroy` and the project copy removed; a failed destroy is reported, not thrown. */
  async destroy(): Promise<void> {
    await this.cli.run("destroy", "--yes", "--stack", this.stack).catch((error: Error) => console.error(`destroy failed: ${error.message}`));
    this.project.remove();
  }
}
