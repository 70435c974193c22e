import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isMap } from "../components/monitoring/helm-values";
import { pinnedImage } from "../components/pins";
import { containersOf, helmTypes, podSpecOf } from "./workloads";

const fix = "use a digest (repository@sha256:...) or a tag naming an x.y.z release";

/** The `tag` strings of Helm values, by path; an empty tag is the chart's own, pinned with the chart. */
function tags(values: unknown, path = ""): [string, string][] {
  if (Array.isArray(values)) return values.flatMap((item, index) => tags(item, `${path}[${index}]`));
  if (!isMap(values)) return [];
  return Object.entries(values).flatMap(([key, value]): [string, string][] => {
    const at = path ? `${path}.${key}` : key;
    return key === "tag" && typeof value === "string" ? (value === "" ? [] : [[at, value]]) : tags(value, at);
  });
}

// A floating tag means a restarted pod may run code nobody deployed, and a rollback may not bring
// back what ran before.
export const imagesPinned: ResourceValidationPolicy = {
  name: "images-pinned",
  description: "Every container image is by digest, or by a tag naming an x.y.z release; so is every image tag in Helm values.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const spec = podSpecOf(args.type, args.props);
    for (const container of spec ? containersOf(spec) : []) {
      if (!pinnedImage.test(container.image ?? "")) reportViolation(`container "${container.name}" runs image "${container.image ?? ""}": ${fix}`);
    }
    if (!helmTypes.includes(args.type)) return;
    for (const [at, tag] of tags(args.props.values)) {
      if (!pinnedImage.test(`image:${tag}`) && !/^sha256:[0-9a-f]{64}$/.test(tag)) reportViolation(`Helm value ${at} is "${tag}": ${fix}`);
    }
  },
};
