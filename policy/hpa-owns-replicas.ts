import type { ResourceValidationPolicy } from "@pulumi/policy";
import { kindOf } from "./workloads";

const hpaType = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const scalableTypes = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"];

/** "<namespace>/<Kind>/<name>": how an HPA's scaleTargetRef and a workload's metadata meet. */
function key(namespace: string | undefined, kind: string, name: string): string {
  return `${namespace ?? "default"}/${kind}/${name}`;
}

/**
 * Under server-side apply a replica count in the manifest is a field Pulumi owns: every update sets
 * it back, undoing the HPA's scale-out in the middle of the load that caused it.
 *
 * The check needs what the program declares, which only resource validation sees (a stack policy
 * sees live objects, whose spec.replicas the API server always fills in). So each call remembers
 * what it saw, and whichever of the workload and its HPA comes second reports: one instance per
 * policy pack run.
 */
export function hpaOwnsReplicas(): ResourceValidationPolicy {
  const declaredReplicas = new Map<string, { kind: string; name: string; replicas: number }>();
  const scaledBy = new Map<string, string>();
  const message = (workload: { kind: string; name: string; replicas: number }, hpa: string) =>
    `${workload.kind} "${workload.name}" sets spec.replicas (${workload.replicas}) while HorizontalPodAutoscaler "${hpa}" scales it`;
  return {
    name: "hpa-owns-replicas",
    description: "A Deployment or StatefulSet that a HorizontalPodAutoscaler scales sets no spec.replicas.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      const { metadata, spec } = args.props;
      if (args.type === hpaType) {
        const target = key(metadata?.namespace, spec?.scaleTargetRef?.kind, spec?.scaleTargetRef?.name);
        scaledBy.set(target, metadata?.name);
        const workload = declaredReplicas.get(target);
        if (workload) reportViolation(message(workload, metadata?.name));
      } else if (scalableTypes.includes(args.type) && spec?.replicas !== undefined) {
        const workload = { kind: kindOf(args.type), name: metadata?.name, replicas: spec.replicas };
        const target = key(metadata?.namespace, workload.kind, workload.name);
        declaredReplicas.set(target, workload);
        const hpa = scaledBy.get(target);
        if (hpa !== undefined) reportViolation(message(workload, hpa));
      }
    },
  };
}
