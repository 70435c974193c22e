// The local kwok cluster, registry and chart repository that scripts/cluster/cluster.sh runs, seen from the
// suite: its kubeconfig, typed API clients, and polling for the state a test waits on.
import { setTimeout as sleep } from "node:timers/promises";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { projectRoot } from "./paths";


/** `scripts/cluster/cluster.sh env` prints `export NAME=value` lines: the kubeconfig, the registry and the chart repository. */
function clusterEnv(): Record<string, string> {
  const out = execFileSync(path.join(projectRoot, "scripts", "cluster", "cluster.sh"), ["env"], { encoding: "utf8" });
  return Object.fromEntries(
    [...out.matchAll(/^export ([A-Z_]+)=['"]?([^'"\n]*)['"]?$/gm)].map(([, name, value]) => [name, value]),
  );
}

export class LocalCluster {
  readonly kubeconfig: string;
  /** The kubeconfig's context of the cluster, which each stack names as its kubeContext. */
  readonly context: string;
  readonly registry: string;
  readonly chartRepository: string;
  /** The loopback registry that refuses anonymous pulls, and its login. */
  readonly privateRegistry: { address: string; user: string; password: string };
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly autoscaling: k8s.AutoscalingV2Api;
  readonly networking: k8s.NetworkingV1Api;
  readonly policy: k8s.PolicyV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly admissionRegistration: k8s.AdmissionregistrationV1Api;
  readonly apiExtensions: k8s.ApiextensionsV1Api;
  readonly rbac: k8s.RbacAuthorizationV1Api;
  readonly storage: k8s.StorageV1Api;

  constructor() {
    const env = clusterEnv();
    if (!env.KUBECONFIG || !env.REGISTRY || !env.CHART_REPOSITORY) {
      throw new Error("scripts/cluster/cluster.sh env printed no KUBECONFIG, REGISTRY or CHART_REPOSITORY: run `npm run cluster:up`");
    }
    this.kubeconfig = env.KUBECONFIG;
    this.registry = env.REGISTRY;
    this.chartRepository = env.CHART_REPOSITORY;
    this.privateRegistry = {
      address: env.PRIVATE_REGISTRY,
      user: env.PRIVATE_REGISTRY_USER,
      password: env.PRIVATE_REGISTRY_PASSWORD_FILE && fs.existsSync(env.PRIVATE_REGISTRY_PASSWORD_FILE) ? fs.readFileSync(env.PRIVATE_REGISTRY_PASSWORD_FILE, "utf8").trim() : "",
    };
    const config = new k8s.KubeConfig();
    config.loadFromFile(this.kubeconfig);
    this.context = config.getCurrentContext();
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.apps = config.makeApiClient(k8s.AppsV1Api);
    this.autoscaling = config.makeApiClient(k8s.AutoscalingV2Api);
    this.networking = config.makeApiClient(k8s.NetworkingV1Api);
    this.policy = config.makeApiClient(k8s.PolicyV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.admissionRegistration = config.makeApiClient(k8s.AdmissionregistrationV1Api);
    this.apiExtensions = config.makeApiClient(k8s.ApiextensionsV1Api);
    this.rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
    this.storage = config.makeApiClient(k8s.StorageV1Api);
  }

  async namespaceExists(name: string): Promise<boolean> {
    const { items } = await this.core.listNamespace();
    return items.some((ns) => ns.metadata?.name === name);
  }

  /** CPU (millicores) and working set (MiB) of the pods matching `labelSelector`, from the metrics API. */
  async podMetrics(namespace: string, labelSelector: string): Promise<{ pod: string; cpuMilli: number; memoryMi: number }[]> {
    const list = (await this.custom.listNamespacedCustomObject({ group: "metrics.k8s.io", version: "v1beta1", namespace, plural: "pods", labelSelector })) as {
      items: { metadata: { name: string }; containers: { usage: { cpu: string; memory: string } }[] }[];
    };
    return list.items.map((item) => ({
      pod: item.metadata.name,
      cpuMilli: item.containers.reduce((sum, c) => sum + quantity(c.usage.cpu) * 1000, 0),
      memoryMi: Math.round(item.containers.reduce((sum, c) => sum + quantity(c.usage.memory), 0) / 2 ** 20),
    }));
  }

  /** Pushes a local Docker image to the loopback registry as repository:tag; returns it by digest. */
  async pushImage(image: string, repository: string, tag: string): Promise<string> {
    const target = `${this.registry}/${repository}:${tag}`;
    execFileSync("docker", ["tag", image, target]);
    execFileSync("docker", ["push", "-q", target], { stdio: "ignore" });
    return `${this.registry}/${repository}@${await this.registryDigest(repository, tag)}`;
  }

  /** Builds `serviceDir` with the real dockerd, pushes it as hit-counter:<tag>, and returns repository@digest. */
  async publishService(serviceDir: string, tag: string): Promise<string> {
    const tagged = `${this.registry}/hit-counter:${tag}`;
    execFileSync(path.join(projectRoot, "scripts", "images", "build-service-image.sh"), [tagged, serviceDir], { stdio: "ignore" });
    execFileSync("docker", ["push", "--quiet", tagged], { stdio: "ignore" });
    return `${this.registry}/hit-counter@${await this.registryDigest("hit-counter", tag)}`;
  }

  /** The digest the registry serves for repository:tag, as `docker push` reported it. */
  async registryDigest(repository: string, tag: string): Promise<string> {
    const response = await fetch(`http://${this.registry}/v2/${repository}/manifests/${tag}`, {
      method: "HEAD",
      headers: {
        accept: [
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/vnd.docker.distribution.manifest.v2+json",
        ].join(", "),
      },
    });
    const digest = response.headers.get("docker-content-digest");
    if (!response.ok || !digest) throw new Error(`registry has no ${repository}:${tag} (HTTP ${response.status})`);
    return digest;
  }
}

const suffixes: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** A Kubernetes quantity ("250m", "52340Ki") as a plain number. */
export function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(n|u|m|k|Ki|Mi|Gi)?$/.exec(text);
  if (!match) throw new Error(`not a quantity: ${text}`);
  return Number(match[1]) * suffixes[match[2] ?? ""];
}

/** The field managers that own a Deployment's spec.replicas under server-side apply. */
export function replicaManagers(deployment: k8s.V1Deployment): string[] {
  return (deployment.metadata?.managedFields ?? []).filter((f) => JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"')).map((f) => f.manager ?? "");
}

/** Pulumi's among them: the provider names its manager pulumi-kubernetes-<suffix>. */
export function pulumiManagers(managers: string[]): string[] {
  return managers.filter((manager) => manager.startsWith("pulumi-kubernetes"));
}

/** Polls `probe` until it returns a value, or fails with the last thing it saw. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 180_000, intervalMs = 2_000 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
