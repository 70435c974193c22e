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
  /** The command that opens Grafana on localhost:3000, or why there is no Grafana. */
  public readonly grafanaPortForward: pulumi.Output<string>;
  /** The command that prints Grafana's admin password, or why there is no Grafana. */
  public readonly grafanaAdminPasswordCommand: pulumi.Output<string>;

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

    // Secrets the chart reads, declared before the release that mounts them.
    const secret = (name: string, stringData: Record<string, pulumi.Input<string>>) =>
      new k8s.core.v1.Secret(name, { metadata: { name, namespace: this.namespace }, stringData }, { parent: this });
    const secrets: k8s.core.v1.Secret[] = [];
    if (settings.grafana) {
      // Grafana reads its admin login from this Secret: the chart's default password is public
      // knowledge, and a password in Helm values would sit in the state in plain text.
      const password = new GeneratedPassword("grafana-admin", {}, { parent: this });
      secrets.push(secret(grafanaAdminSecretName, { "admin-user": settings.grafana.adminUser, "admin-password": password.value }));
    }
    if (settings.alertReceiver) {
      secrets.push(secret(alertReceiverSecret.name, { [alertReceiverSecret.key]: settings.alertReceiver.credential }));
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

    // Also without the chart's Grafana: then a team's own Grafana, its sidecar watching this
    // namespace, loads it.
    const dashboard = new k8s.core.v1.ConfigMap(
      "hit-counter-dashboard",
      {
        // In Grafana's namespace, where its sidecar looks for ConfigMaps with this label.
        metadata: { name: "hit-counter-dashboard", namespace: this.namespace, labels: { grafana_dashboard: "1" } },
        data: { "hit-counter.json": app.observed.apply(hitCounterDashboard) },
      },
      { parent: this },
    );

    if (settings.grafana) {
      this.grafanaPortForward = pulumi.interpolate`kubectl -n ${this.namespace} port-forward svc/${releaseName}-grafana 3000:80`;
      this.grafanaAdminPasswordCommand = pulumi.interpolate`kubectl -n ${this.namespace} get secret ${grafanaAdminSecretName} -o jsonpath='{.data.admin-password}' | base64 -d`;
    } else {
      const off = pulumi.interpolate`none: grafanaEnabled is false; ConfigMap ${this.namespace}/${dashboard.metadata.name} (label grafana_dashboard=1) holds the dashboard for a Grafana of your own`;
      this.grafanaPortForward = off;
      this.grafanaAdminPasswordCommand = off;
    }
    this.registerOutputs({
      namespace: this.namespace,
      grafanaPortForward: this.grafanaPortForward,
      grafanaAdminPasswordCommand: this.grafanaAdminPasswordCommand,
    });
  }
}
