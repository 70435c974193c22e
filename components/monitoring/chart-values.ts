// The values the program gives kube-prometheus-stack: what it changes from the chart's defaults,
// and why. Every key is one the chart reads (test/chart checks it against the vendored chart).
import type { ChartInstall } from "../config";
import { alertmanagerValues } from "./alertmanager";
import { type HelmValues, helmMerge } from "./helm-values";

/** The Secret Grafana reads its admin login from (Monitoring creates it). */
export const grafanaAdminSecretName = "grafana-admin";

// Managed control planes (EKS, GKE, AKS), and clusters that run these as host processes, expose no
// metrics endpoint for them: the scrapes find nothing and the chart's *Down alerts fire forever.
// In 88.5.3 their rules and dashboards follow `enabled` too; the rules are also switched off by
// name, so they stay off should a later chart stop tying them to the scrape.
const withoutControlPlane = {
  kubeControllerManager: { enabled: false },
  kubeScheduler: { enabled: false },
  kubeEtcd: { enabled: false },
  kubeProxy: { enabled: false },
  defaultRules: {
    rules: { kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, etcd: false, kubeProxy: false },
  },
};

/** docker.io/library/busybox's tag for the CRD upgrade Job (the chart's default is "latest"). */
export const crdUpgradeBusyboxTag = "1.37.0";

/** Where one stack's monitoring lives: its release, the release's namespace and the app's it watches. */
export interface MonitoringScope {
  release: string;
  namespace: string;
  appNamespace: string;
}

/** A selector of the namespaces named, by the label the API server puts on every namespace. */
function namespacesNamed(names: string[]) {
  return { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: names }] };
}

/**
 * Chart values: no secrets in here, only the names of the Secrets that hold them. The stack's own
 * values come last, as a second `helm -f` file would.
 */
export function kubePrometheusStackValues(settings: Omit<ChartInstall, "chart">, scope: MonitoringScope): HelmValues {
  // Another stack's release, or a platform team's, may share the cluster: this release's operator
  // runs only the Prometheus and Alertmanager in its own namespace (two operators would fight over
  // each other's), and its Prometheus reads monitors and rules from its own and the app's namespace.
  const watched = namespacesNamed([scope.appNamespace, scope.namespace]);
  const ownInstances = [scope.namespace];
  const ours = {
    // The chart names its objects <release>-kube-prometheus-stack cut to 26 characters; the release's
    // own name reads better (<release>-operator) and is as unique (components/config.ts).
    fullnameOverride: scope.release,
    // Helm installs a chart's crds/ once and never upgrades them, so a new chart version would run its
    // operator against the old CRDs. The chart's own hook Job applies the CRDs of the version being
    // installed or upgraded to (server-side, taking them over from Helm) before anything else; with
    // global.imageRegistry its busybox and kubectl images come from the mirror too.
    crds: { upgradeJob: { enabled: true, forceConflicts: true, image: { busybox: { tag: crdUpgradeBusyboxTag } } } },
    // Every image template of the chart and of its subcharts puts global.imageRegistry in place of
    // the image's own registry and keeps its repository path and tag (read in 88.5.3's templates and
    // checked by rendering them), so no per-image registry is needed.
    ...(settings.imageRegistry ? { global: { imageRegistry: settings.imageRegistry } } : {}),
    // The admission webhook checks rules as they are applied; its certificates come from
    // pre-install hook Jobs running kube-webhook-certgen, an image a cluster without registry access
    // cannot pull, so there the release would hang; and without those Jobs the webhook rejects every
    // rule (failurePolicy Fail, no CA). Off together with the operator's TLS, which exists to serve
    // it. The rules are then checked before deploy instead (npm run test:rules).
    prometheusOperator: {
      prometheusInstanceNamespaces: ownInstances,
      alertmanagerInstanceNamespaces: ownInstances,
      thanosRulerInstanceNamespaces: ownInstances,
      ...(settings.admissionWebhooks ? {} : { admissionWebhooks: { enabled: false }, tls: { enabled: false } }),
    },
    prometheus: {
      prometheusSpec: {
        // false: select every ServiceMonitor, PodMonitor, Probe and rule in the watched namespaces,
        // not only those labelled `release: <this release>`.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        serviceMonitorNamespaceSelector: watched,
        podMonitorNamespaceSelector: watched,
        probeNamespaceSelector: watched,
        ruleNamespaceSelector: watched,
      },
    },
    // Without the chart's Grafana, the chart's own dashboard and data source ConfigMaps go too
    // (unless grafana.forceDeployDashboards and forceDeployDatasources say otherwise).
    grafana: settings.grafana
      ? {
          admin: { existingSecret: grafanaAdminSecretName, userKey: "admin-user", passwordKey: "admin-password" },
          sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1" } },
        }
      : { enabled: false },
    // Needs hostNetwork, hostPID and hostPath, which baseline forbids; the dashboard uses only
    // the kubelet's container metrics and kube-state-metrics.
    nodeExporter: { enabled: false },
    ...(settings.controlPlane ? {} : withoutControlPlane),
    ...alertmanagerValues(settings.alertReceiver),
  };
  return helmMerge(ours, settings.chartValues) as HelmValues;
}
