// Small resources for the policy tests: a workload that passes every policy, and ways to break it.
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../components/pod-security";
import type { CheckedResource } from "../support/policy-check";
import { resourceType as k8s } from "../support/resource-types";

export const digestImage = `registry.example/hit-counter@sha256:${"ab".repeat(32)}`;

export function container(overrides: Record<string, unknown> = {}) {
  return {
    name: "app",
    image: digestImage,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    securityContext: restrictedContainerSecurityContext,
    ...overrides,
  };
}

/** A Deployment named `name` in namespace "apps" whose pod spec is `pod` over a passing one. */
export function deployment(name: string, pod: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): CheckedResource {
  return {
    type: k8s.deployment,
    name,
    props: {
      metadata: { name, namespace: "apps" },
      spec: { ...spec, template: { spec: { securityContext: restrictedPodSecurityContext(), containers: [container()], ...pod } } },
    },
  };
}

export const networkPolicy: CheckedResource = { type: k8s.networkPolicy, name: "fence", props: { metadata: { name: "fence", namespace: "apps" } } };

export function release(props: Record<string, unknown>): CheckedResource {
  return { type: k8s.release, name: "kps", props: { chart: "kube-prometheus-stack", version: "88.5.3", repositoryOpts: { repo: "https://charts.example" }, values: {}, ...props } };
}
