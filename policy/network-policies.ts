import type { StackValidationPolicy } from "@pulumi/policy";
import { kindOf, podSpecOf } from "./workloads";

const networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

// Advisory: a NetworkPolicy only does something where the cluster's network plugin enforces it, and
// a namespace may be fenced by policies that another stack or the platform team declares.
export const networkPolicyPerNamespace: StackValidationPolicy = {
  name: "network-policy-per-namespace",
  description: "Every namespace the stack runs pods in has a NetworkPolicy of the stack.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    const fenced = new Set(args.resources.filter((resource) => resource.type === networkPolicyType).map((policy) => policy.props.metadata?.namespace ?? "default"));
    for (const workload of args.resources.filter((resource) => podSpecOf(resource.type, resource.props))) {
      const namespace = workload.props.metadata?.namespace ?? "default";
      if (!fenced.has(namespace)) {
        reportViolation(`namespace "${namespace}" runs ${kindOf(workload.type)} "${workload.props.metadata?.name}" and has no NetworkPolicy`, workload.urn);
      }
    }
  },
};
