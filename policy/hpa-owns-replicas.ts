import type { StackValidationPolicy } from "@pulumi/policy";
import { kindOf } from "./workloads";

const hpaType = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";

/** "<namespace>/<Kind>/<name>": how an HPA's scaleTargetRef and a workload's metadata meet. */
function key(namespace: string | undefined, kind: string, name: string): string {
  return `${namespace ?? "default"}/${kind}/${name}`;
}

// Under server-side apply a replica count in the manifest is a field Pulumi owns: every update sets
// it back, undoing the HPA's scale-out in the middle of the load that caused it.
export const hpaOwnsReplicas: StackValidationPolicy = {
  name: "hpa-owns-replicas",
  description: "A Deployment or StatefulSet that a HorizontalPodAutoscaler scales sets no spec.replicas.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const scaled = new Map<string, string>();
    for (const hpa of args.resources.filter((resource) => resource.type === hpaType)) {
      const target = hpa.props.spec?.scaleTargetRef ?? {};
      scaled.set(key(hpa.props.metadata?.namespace, target.kind, target.name), hpa.props.metadata?.name);
    }
    for (const workload of args.resources) {
      // Once created, props are the live object, whose spec.replicas the API server filled in (or the
      // HPA set); the Kubernetes provider keeps what the program declared under __inputs. In a
      // preview of a create there is no live object: props are the declared ones.
      const { metadata, spec } = workload.props.__inputs ?? workload.props;
      const hpa = metadata?.name === undefined ? undefined : scaled.get(key(metadata.namespace, kindOf(workload.type), metadata.name));
      if (hpa !== undefined && spec?.replicas !== undefined) {
        reportViolation(`${kindOf(workload.type)} "${metadata.name}" sets spec.replicas (${spec.replicas}) while HorizontalPodAutoscaler "${hpa}" scales it`, workload.urn);
      }
    }
  },
};
