// The values the program gives kube-prometheus-stack: what it changes from the chart's defaults,
// and why. Every key is one the chart reads (test/chart checks it against the vendored chart).
import type { MonitoringSettings } from "../config";
import { alertmanagerValues } from "./alertmanager";

/** The Secret Grafana reads its admin login from (Monitoring creates it). */
export const grafanaAdminSecretName = "grafana-admin";

/** Chart values: no secrets in here, only the names of the Secrets that hold them. */
export function kubePrometheusStackValues(settings: Pick<MonitoringSettings, "admissionWebhooks" | "alertReceiver">) {
  return {
    // The admission webhook checks rules as they are applied; its certificates come from
    // pre-install hook Jobs running kube-webhook-certgen, an image a cluster without registry access
    // cannot pull, so there the release would hang; and without those Jobs the webhook rejects every
    // rule (failurePolicy Fail, no CA). Off together with the operator's TLS, which exists to serve
    // it. The rules are then checked before deploy instead (npm run test:rules).
    ...(settings.admissionWebhooks ? {} : { prometheusOperator: { admissionWebhooks: { enabled: false }, tls: { enabled: false } } }),
    prometheus: {
      prometheusSpec: {
        // false: select every ServiceMonitor, PodMonitor, Probe and rule in every namespace, not
        // only those labelled `release: <this release>`; ours live in the app's namespace.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        probeSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
      },
    },
    grafana: {
      admin: { existingSecret: grafanaAdminSecretName, userKey: "admin-user", passwordKey: "admin-password" },
      sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1" } },
    },
    // Needs hostNetwork, hostPID and hostPath, which baseline forbids; the dashboard uses only
    // the kubelet's container metrics and kube-state-metrics.
    nodeExporter: { enabled: false },
    ...alertmanagerValues(settings.alertReceiver),
  };
}
