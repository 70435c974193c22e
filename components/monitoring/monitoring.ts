import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringSettings } from "../config";
import type { CounterApp } from "../counter-app";
import { GeneratedPassword } from "../password";
import { podSecurityLabels } from "../pod-security";
import { hitCounterAlerts } from "./alerts";
import { alertReceiverSecret } from "./alertmanager";
import { grafanaAdminSecretName, kubePrometheusStackValues } from "./chart-values";
import { hitCounterDashboard } from "./dashboard";

export const releaseName = "kube-prometheus-stack";

export interface MonitoringArgs {
  settings: MonitoringSettings;
  /** The backend to scrape, chart and alert on. */
  app: CounterApp;
}

/** kube-prometheus-stack plus what makes it watch the backend: ServiceMonitor, alert rules, dashboard. */
export class Monitoring extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly grafanaService = `${releaseName}-grafana`;
  public readonly grafanaAdminSecret = grafanaAdminSecretName;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:Monitoring", name, {}, opts);
    const { settings, app } = args;

    // baseline, not restricted: the chart's components run as non-root but not all of them drop
    // every capability or set seccomp. The node exporter (host network and PID) is off below.
    const namespace = new k8s.core.v1.Namespace(
      settings.namespace,
      { metadata: { name: settings.namespace, labels: podSecurityLabels("baseline") } },
      { parent: this },
    );
    this.namespace = namespace.metadata.name;

    // Grafana reads its admin login from this Secret: the chart's default password is public
    // knowledge, and a password in Helm values would sit in the state in plain text.
    const grafanaPassword = new GeneratedPassword("grafana-admin", {}, { parent: this });
    const secrets = [
      new k8s.core.v1.Secret(
        grafanaAdminSecretName,
        {
          metadata: { name: grafanaAdminSecretName, namespace: this.namespace },
          stringData: { "admin-user": settings.grafanaAdminUser, "admin-password": grafanaPassword.value },
        },
        { parent: this },
      ),
    ];
    if (settings.alertReceiver) {
      secrets.push(
        new k8s.core.v1.Secret(
          alertReceiverSecret.name,
          {
            metadata: { name: alertReceiverSecret.name, namespace: this.namespace },
            stringData: { [alertReceiverSecret.key]: settings.alertReceiver.credential },
          },
          { parent: this },
        ),
      );
    }

    const chart =
      "path" in settings.chart
        ? { chart: settings.chart.path }
        : { chart: "kube-prometheus-stack", version: settings.chart.version, repositoryOpts: { repo: settings.chart.repository } };
    // A Release, not helm.v4.Chart: Helm's own install (hooks included, `helm list` and `helm
    // rollback` work), where helm.v4.Chart only renders templates and skips hooks. The CRDs come
    // with the chart, so objects of those kinds depend on it.
    const release = new k8s.helm.v3.Release(
      releaseName,
      {
        name: releaseName,
        namespace: this.namespace,
        ...chart,
        values: kubePrometheusStackValues(settings),
        timeout: 600,
      },
      { parent: this, dependsOn: secrets },
    );

    const labels = app.service.metadata.labels;
    new k8s.apiextensions.CustomResource(
      "hit-counter",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: app.service.metadata.name, namespace: app.service.metadata.namespace, labels },
        spec: {
          // Selects the Service by its labels; Prometheus then scrapes the pods behind it.
          selector: { matchLabels: labels },
          namespaceSelector: { matchNames: [app.service.metadata.namespace] },
          // 15 s, the HPA's own sync period, so the dashboard shows scaling as it happens.
          endpoints: [{ port: app.metricsPort, path: "/metrics", interval: "15s" }],
        },
      },
      { parent: this, dependsOn: [release] },
    );

    new k8s.apiextensions.CustomResource(
      "hit-counter",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "hit-counter", namespace: app.service.metadata.namespace, labels },
        spec: { groups: app.observed.apply(hitCounterAlerts) },
      },
      { parent: this, dependsOn: [release] },
    );

    new k8s.core.v1.ConfigMap(
      "hit-counter-dashboard",
      {
        // In Grafana's namespace, where its sidecar looks for ConfigMaps with this label.
        metadata: { name: "hit-counter-dashboard", namespace: this.namespace, labels: { grafana_dashboard: "1" } },
        data: { "hit-counter.json": app.observed.apply(hitCounterDashboard) },
      },
      { parent: this },
    );

    this.registerOutputs({ namespace: this.namespace, grafanaService: this.grafanaService });
  }
}
