// The stack the fault suites break on the real node: two backend pods without an HPA, so the other
// pod is there to serve and nothing else moves, reached through its NodePort; and what a run under
// load lost while the fault lasted.
import type { Stack } from "@pulumi/pulumi/automation";
import type { Series } from "../../../stress/load/series";
import { E2eProject, type StackConfig } from "../../support/e2e-project";
import type { LocalCluster } from "../../support/local-cluster";
import { standInImages } from "../../support/standins";

export class FaultStack {
  private constructor(
    private readonly project: E2eProject,
    private readonly stack: Stack,
    /** GET / through the NodePort on loopback. */
    readonly url: string,
  ) {}

  /** Deploys the stack `name` into `namespace`, with `config` over the fault suites' defaults. */
  static async up(cluster: LocalCluster, name: string, namespace: string, config: StackConfig = {}): Promise<FaultStack> {
    const project = E2eProject.create(cluster.kubeconfig);
    try {
      const stack = await project.stack(name, {
        kubeContext: cluster.context,
        namespace,
        image: await cluster.publishService(`${project.dir}/service`, name),
        serviceType: "NodePort",
        minReplicas: 2,
        cpuTargetUtilization: 0,
        memoryTargetUtilization: 0,
        redisImage: await cluster.pushImage(standInImages().REDIS_IMAGE, "redis", "bookworm"),
        monitoringEnabled: false,
        ...config,
      });
      // A half-made stack is destroyed here: the suite's after hook only has what `up` returned.
      await stack.up().catch(async (error: unknown) => {
        await stack.destroy().catch(() => undefined);
        throw error;
      });
      const service = await cluster.core.readNamespacedService({ name: "hit-counter", namespace });
      return new FaultStack(project, stack, `http://127.0.0.1:${service.spec?.ports?.[0].nodePort}/`);
    } catch (error) {
      project.remove();
      throw error;
    }
  }

  async destroy(): Promise<void> {
    await this.stack.destroy().catch(() => undefined);
    this.project.remove();
  }
}

/** Requests sent without a 2xx back, and the seconds from the first to the last one that failed. */
export function failures(series: Series): { failed: number; seconds: number } {
  const failing = series.buckets.filter((b) => b.answered > b.ok || Object.keys(b.errors).length > 0).map((b) => b.t);
  return {
    failed: series.result.total.sent - series.result.total.ok,
    seconds: failing.length ? Math.max(...failing) - Math.min(...failing) + 1 : 0,
  };
}
