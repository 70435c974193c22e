// What Pod Security "restricted" demands of every pod and container, written once: for the
// program's workloads and for the stress tool's in-cluster Job. Plain objects, so both Pulumi's
// input types and @kubernetes/client-node's accept them.

/** Namespace labels that make the API server enforce (and warn and audit) a Pod Security level. */
export function podSecurityLabels(level: "restricted" | "baseline"): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
  };
}

interface SeccompProfile {
  type: string;
}

/**
 * Pod-level settings: non-root and RuntimeDefault seccomp. `uid` is for images whose USER is not a
 * numeric non-root user (the kubelet can only verify a number); it also owns the pod's volumes.
 */
export function restrictedPodSecurityContext(uid?: number): {
  runAsNonRoot: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  seccompProfile: SeccompProfile;
} {
  return {
    runAsNonRoot: true,
    ...(uid === undefined ? {} : { runAsUser: uid, runAsGroup: uid, fsGroup: uid }),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level settings: no privilege escalation, no capabilities, nothing written outside volumes. */
export const restrictedContainerSecurityContext: {
  allowPrivilegeEscalation: boolean;
  readOnlyRootFilesystem: boolean;
  runAsNonRoot: boolean;
  capabilities: { drop: string[] };
  seccompProfile: SeccompProfile;
} = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
