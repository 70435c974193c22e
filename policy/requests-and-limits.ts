import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf } from "./workloads";

const demanded = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;

// The HPA computes utilization against requests (none: it cannot scale), the scheduler places by
// them, and a pod without limits can starve its node's neighbours.
export const requestsAndLimits: ResourceValidationPolicy = {
  name: "requests-and-limits",
  description: "Every container requests CPU and memory and is limited in both.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const spec = podSpecOf(args.type, args.props);
    for (const container of spec ? containersOf(spec) : []) {
      const missing = demanded.filter((field) => {
        const [kind, resource] = field.split(".") as ["requests" | "limits", string];
        return container.resources?.[kind]?.[resource] === undefined;
      });
      if (missing.length > 0) reportViolation(`container "${container.name}" sets no resources.${missing.join(", resources.")}`);
    }
  },
};
