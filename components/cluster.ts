// The stack's cluster: the one kubeconfig context it names, and what that cluster must offer before
// anything is created there. A stack never follows the current kubectl context: a `pulumi up -s prod`
// run while a laptop cluster is current must fail, not deploy prod there.
import * as client from "@kubernetes/client-node";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";

/** What the checks read from the cluster; undefined where the deployer may not look (RBAC). */
export interface ClusterFacts {
  /** Whether the metrics.k8s.io API (metrics-server) answers: the HPA reads CPU and memory from it. */
  servesMetrics?: boolean;
  storageClasses?: { name: string; isDefault: boolean }[];
  /** Distinct os/arch of the nodes, e.g. ["linux/amd64"]. */
  nodePlatforms?: string[];
}

/** Reads the facts from the cluster of a kubeconfig context; fails naming the key when there is no such context. */
export type InspectCluster = (context: string) => Promise<ClusterFacts>;

const contextKey = "hitcounter:kubeContext";

/** The kubeconfig the provider reads too: $KUBECONFIG, else ~/.kube/config. */
export const inspectCluster: InspectCluster = async (context) => {
  const kubeconfig = new client.KubeConfig();
  kubeconfig.loadFromDefault();
  const contexts = kubeconfig.getContexts().map((c) => c.name);
  if (!contexts.includes(context)) {
    const known = contexts.length ? contexts.join(", ") : "none";
    throw new Error(`Invalid config ${contextKey}: expected a context of your kubeconfig (${known}), got "${context}"`);
  }
  kubeconfig.setCurrentContext(context);
  const allowed = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      const status = (error as { code?: number }).code;
      if (status === 401 || status === 403) return undefined;
      throw new Error(`Cannot reach the cluster of ${contextKey} "${context}": ${(error as Error).message}`, { cause: error });
    }
  };
  const metricsApi = kubeconfig.makeApiClient(client.ApiregistrationV1Api);
  const servesMetrics = await allowed(async () => {
    try {
      const service = await metricsApi.readAPIService({ name: "v1beta1.metrics.k8s.io" });
      return service.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ?? false;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    }
  });
  const storageClasses = await allowed(async () =>
    (await kubeconfig.makeApiClient(client.StorageV1Api).listStorageClass()).items.map((sc) => ({
      name: sc.metadata?.name ?? "",
      isDefault: sc.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
    })),
  );
  const nodePlatforms = await allowed(async () => {
    const nodes = (await kubeconfig.makeApiClient(client.CoreV1Api).listNode()).items;
    const platforms = nodes.map((n) => n.status?.nodeInfo).filter((info) => info?.architecture).map((info) => `${info?.operatingSystem}/${info?.architecture}`);
    return [...new Set(platforms)].sort();
  });
  return { servesMetrics, storageClasses, nodePlatforms };
};

/** What the checks decide: the image's platform, and warnings for things that deploy but will not work. */
export interface ClusterFit {
  /** The platform to build the image for, when the stack builds one. */
  imagePlatform: string;
  warnings: string[];
}

// The image a cluster of unknown nodes most likely runs: every managed Kubernetes defaults to amd64 nodes.
const fallbackPlatform = "linux/amd64";

/** Checks the cluster against the stack; throws, naming the key to change, where `up` could only time out. */
export function checkCluster(config: StackConfig, facts: ClusterFacts): ClusterFit {
  const warnings: string[] = [];
  if (config.autoscaling && facts.servesMetrics === false) {
    warnings.push(
      "The cluster serves no metrics.k8s.io API, so the HorizontalPodAutoscaler cannot read CPU or memory and will never scale. " +
        "Install metrics-server (EKS: `aws eks create-addon --addon-name metrics-server --cluster-name <name>`; elsewhere " +
        "`kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml`); GKE and AKS ship it.",
    );
  }

  const persistence = config.redis.persistence;
  const classes = facts.storageClasses;
  if (persistence && classes) {
    const names = classes.map((c) => c.name).join(", ") || "none";
    if (persistence.storageClass !== undefined && !classes.some((c) => c.name === persistence.storageClass)) {
      throw new Error(`Invalid config hitcounter:redisStorageClass: expected a StorageClass of the cluster (${names}), got "${persistence.storageClass}"`);
    }
    if (persistence.storageClass === undefined && !classes.some((c) => c.isDefault)) {
      throw new Error(
        `Invalid config hitcounter:redisStorageClass: expected a StorageClass (${names}) because the cluster has no default one ` +
          `and the Redis volume would stay Pending, got ""`,
      );
    }
  }

  let imagePlatform = fallbackPlatform;
  if (config.image.kind === "build" && config.image.platform !== undefined) {
    imagePlatform = config.image.platform;
  } else if (config.image.kind === "build") {
    const platforms = facts.nodePlatforms ?? [];
    if (platforms.length > 1) {
      throw new Error(`Invalid config hitcounter:imagePlatform: expected one os/arch for nodes of several (${platforms.join(", ")}), got ""`);
    }
    if (platforms.length === 1) imagePlatform = platforms[0];
    else warnings.push(`The cluster's nodes could not be read; the image is built for ${fallbackPlatform}. Set hitcounter:imagePlatform to choose.`);
  }
  return { imagePlatform, warnings };
}

/** The stack's only Kubernetes provider: its context is the stack's, whatever kubectl's current one is. */
export function clusterProvider(context: string): k8s.Provider {
  return new k8s.Provider("cluster", { context });
}

/** Logs the warnings where `pulumi preview` and `up` show them. */
export function reportFit(fit: ClusterFit): void {
  for (const warning of fit.warnings) void pulumi.log.warn(warning);
}
