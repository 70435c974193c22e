import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Container, containersOf, type PodSpec, podSpecOf } from "./workloads";

// Pod Security Standards, level restricted (kubernetes.io/docs/concepts/security/pod-security-standards):
// what the API server enforces in a namespace labelled for it, checked before the deploy and
// wherever the namespace label is missing.
const allowedVolumes = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);
const seccompProfiles = new Set(["RuntimeDefault", "Localhost"]);

function podFaults(spec: PodSpec): string[] {
  const faults = (["hostNetwork", "hostPID", "hostIPC"] as const).filter((field) => spec[field] === true).map((field) => `${field} is true`);
  for (const volume of spec.volumes ?? []) {
    const kinds = Object.keys(volume).filter((key) => key !== "name" && !allowedVolumes.has(key));
    faults.push(...kinds.map((kind) => `volume "${String(volume.name)}" is ${kind}`));
  }
  return faults;
}

function containerFaults(container: Container, pod: PodSpec): string[] {
  const own = container.securityContext ?? {};
  const inherited = pod.securityContext ?? {};
  const faults: string[] = [];
  if (own.privileged === true) faults.push("privileged is true");
  if (own.allowPrivilegeEscalation !== false) faults.push("allowPrivilegeEscalation is not false");
  if (!(own.capabilities?.drop ?? []).includes("ALL")) faults.push("capabilities.drop lacks ALL");
  const added = (own.capabilities?.add ?? []).filter((capability) => capability !== "NET_BIND_SERVICE");
  if (added.length > 0) faults.push(`capabilities.add has ${added.join(", ")}`);
  if ((own.runAsNonRoot ?? inherited.runAsNonRoot) !== true) faults.push("runAsNonRoot is not true");
  if ((own.runAsUser ?? inherited.runAsUser) === 0) faults.push("runAsUser is 0");
  const seccomp = own.seccompProfile?.type ?? inherited.seccompProfile?.type;
  if (!seccompProfiles.has(seccomp ?? "")) faults.push(`seccompProfile is ${seccomp ?? "unset"}, not RuntimeDefault or Localhost`);
  if ((container.ports ?? []).some((port) => (port.hostPort ?? 0) !== 0)) faults.push("a hostPort is set");
  return faults;
}

export const restrictedPods: ResourceValidationPolicy = {
  name: "pods-restricted",
  description: "Every pod meets Pod Security restricted: non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp, no host namespaces, ports or paths.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const spec = podSpecOf(args.type, args.props);
    if (!spec) return;
    const faults = podFaults(spec);
    if (faults.length > 0) reportViolation(`the pod breaks Pod Security restricted: ${faults.join("; ")}`);
    for (const container of containersOf(spec)) {
      const faults = containerFaults(container, spec);
      if (faults.length > 0) reportViolation(`container "${container.name}" breaks Pod Security restricted: ${faults.join("; ")}`);
    }
  },
};
