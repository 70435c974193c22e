import type { ResourceValidationPolicy } from "@pulumi/policy";
import { plainTextCredentials } from "../components/monitoring/helm-values";
import { exactVersion } from "../components/pins";
import { helmTypes } from "./workloads";

/** A chart from the local disk, pinned by its files: no repository, no oci:// reference. */
function isLocalChart(props: Record<string, unknown>): boolean {
  const chart = String(props.chart ?? "");
  const repository = (props.repositoryOpts as { repo?: string } | undefined)?.repo;
  return !repository && !chart.includes("://") && (chart.startsWith("/") || chart.startsWith(".") || chart.endsWith(".tgz"));
}

// Without a version the release takes whatever the repository serves as latest on each update.
export const helmReleasePinned: ResourceValidationPolicy = {
  name: "helm-release-pinned",
  description: "Every Helm release installs a chart at an exact version x.y.z, or a chart from a local path.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!helmTypes.includes(args.type) || isLocalChart(args.props)) return;
    const version = args.props.version;
    if (typeof version !== "string" || !exactVersion.test(version)) {
      reportViolation(`chart "${String(args.props.chart)}" is at version "${version ?? ""}", not an exact x.y.z`);
    }
  },
};

// The release stores its values in the cluster, and Pulumi in its state, in plain text.
export const helmValuesWithoutCredentials: ResourceValidationPolicy = {
  name: "helm-values-without-credentials",
  description: "No Helm value is, or is named as, a credential: charts read those from Kubernetes Secrets.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!helmTypes.includes(args.type)) return;
    for (const at of plainTextCredentials(args.props.values)) {
      reportViolation(`Helm value ${at} holds a credential (not shown): put it in a Kubernetes Secret the chart reads`);
    }
  },
};
