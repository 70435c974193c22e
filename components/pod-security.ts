import type * as k8s from "@pulumi/kubernetes";

// What Pod Security "restricted" demands of every pod and container, written once.

/** Namespace labels that make the API server enforce (and warn and audit) a Pod Security level. */
export function podSecurityLabels(level: "restricted" | "baseline"): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
  };
}

/**
 * Pod-level settings: non-root and RuntimeDefault seccomp. `uid` is for images whose USER is not a
 * numeric non-root user (the kubelet can only verify a number); it also owns the pod's volumes.
 */
export function restrictedPodSecurityContext(uid?: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    ...(uid === undefined ? {} : { runAsUser: uid, runAsGroup: uid, fsGroup: uid }),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level settings: no privilege escalation, no capabilities, nothing written outside volumes. */
export const restrictedContainerSecurityContext: k8s.types.input.core.v1.SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
