import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringSettings } from "../config";
import type { CounterApp } from "../counter-app";
import { hitCounterAlerts } from "./alerts";
import { grafanaAdminSecretName } from "./chart-values";
import { hitCounterDashboard } from "./dashboard";
import { KubePrometheusStack } from "./kube-prometheus-stack";

export interface MonitoringArgs {
  settings: MonitoringSettings;
  /** The backend to scrape, chart and alert on. */
  app: CounterApp;
}

/**
 * What makes kube-prometheus-stack watch the backend (ServiceMonitor, alert rules, dashboard), and the
 * release itself unless the stack uses an existing one.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  /** The command that opens Grafana on localhost:3000, or why there is no Grafana. */
  public readonly grafanaPortForward: pulumi.Output<string>;
  /** The command that prints Grafana's admin password, or why there is no Grafana. */
  public readonly grafanaAdminPasswordCommand: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:Monitoring", name, {}, opts);
    const { settings, app } = args;
    const install = settings.install;
    const release =
      install &&
      new KubePrometheusStack(
        "kube-prometheus-stack",
        { release: settings.release, namespace: settings.namespace, install, appNamespace: app.service.metadata.namespace },
        { parent: this },
      );
    this.namespace = release ? release.namespace : pulumi.output(settings.namespace);
    // Ours, or the existing release's chart defaults: its Prometheus selects `release: <name>`.
    const labels = app.service.metadata.labels.apply((own) => ({ ...own, release: settings.release }));
    const serviceLabels = app.service.metadata.labels;
    const afterChart = { parent: this, dependsOn: release ? [release] : [] };

    new k8s.apiextensions.CustomResource(
      "hit-counter",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: app.service.metadata.name, namespace: app.service.metadata.namespace, labels },
        spec: {
          // Selects the Service by its labels; Prometheus then scrapes the pods behind it.
          selector: { matchLabels: serviceLabels },
          namespaceSelector: { matchNames: [app.service.metadata.namespace] },
          // 15 s, the HPA's own sync period, so the dashboard shows scaling as it happens.
          endpoints: [{ port: app.metricsPort, path: "/metrics", interval: "15s" }],
        },
      },
      afterChart,
    );

    new k8s.apiextensions.CustomResource(
      "hit-counter",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "hit-counter", namespace: app.service.metadata.namespace, labels },
        spec: { groups: app.observed.apply(hitCounterAlerts) },
      },
      afterChart,
    );

    // Also without the chart's Grafana: then a team's own Grafana, its sidecar watching this
    // namespace, loads it.
    const dashboard = new k8s.core.v1.ConfigMap(
      "hit-counter-dashboard",
      {
        // In Grafana's namespace, where its sidecar looks for ConfigMaps with this label.
        // Named for the app's namespace: stacks that share a monitoring namespace each keep their own.
        metadata: { name: pulumi.interpolate`hit-counter-${app.service.metadata.namespace}`, namespace: this.namespace, labels: { grafana_dashboard: "1" } },
        data: { "hit-counter.json": app.observed.apply(hitCounterDashboard) },
      },
      { parent: this },
    );

    const grafana = pulumi.interpolate`kubectl -n ${this.namespace} port-forward svc/${settings.release}-grafana 3000:80`;
    if (!install) {
      this.grafanaPortForward = grafana;
      this.grafanaAdminPasswordCommand = pulumi.output(`the release ${settings.release}'s own: ask whoever runs it`);
    } else if (install.grafana) {
      this.grafanaPortForward = grafana;
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
