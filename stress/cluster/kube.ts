// The Kubernetes client, loaded only when a cluster is asked for. @kubernetes/client-node 2.x is
// ESM-only and this repository compiles to CommonJS, so it comes in through a dynamic import.
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export type KubeModule = typeof k8s;

export function loadKubeModule(): Promise<KubeModule> {
  return import("@kubernetes/client-node");
}

/** The kubeconfig to use: the flag, else $KUBECONFIG, else ~/.kube/config if it exists. */
export function kubeconfigPath(flag: string | undefined, env = process.env): string | undefined {
  if (flag) return flag;
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter)[0];
  const home = path.join(os.homedir(), ".kube", "config");
  return existsSync(home) ? home : undefined;
}

export async function loadKubeConfig(file: string): Promise<{ kube: KubeModule; config: k8s.KubeConfig }> {
  const kube = await loadKubeModule();
  const config = new kube.KubeConfig();
  config.loadFromFile(file);
  return { kube, config };
}
