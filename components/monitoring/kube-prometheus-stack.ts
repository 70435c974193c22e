import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ChartInstall } from "../config";
import { GeneratedPassword } from "../password";
import { podSecurityLabels } from "../pod-security";
import { alertReceiverSecret } from "./alertmanager";
import { grafanaAdminSecretName, kubePrometheusStackValues } from "./chart-values";

// Revisions Helm keeps for `helm rollback`; without a bound, every `pulumi up` that changes a
// value adds a Secret to the namespace, forever.
const maxHistory = 10;

export interface KubePrometheusStackArgs {
  /** The Helm release's name. */
  release: string;
  namespace: string;
  install: ChartInstall;
  appNamespace: pulumi.Input<string>;
}

/** The stack's own kube-prometheus-stack release, its namespace and the Secrets it reads. */
export class KubePrometheusStack extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: KubePrometheusStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:KubePrometheusStack", name, {}, opts);
    const { install } = args;

    // baseline, not restricted: the chart's components run as non-root but not all of them drop
    // every capability or set seccomp. The node exporter (host network and PID) is off.
    const namespace = new k8s.core.v1.Namespace(
      args.namespace,
      { metadata: { name: args.namespace, labels: podSecurityLabels("baseline") } },
      { parent: this },
    );
    this.namespace = namespace.metadata.name;

    // Secrets the chart reads, declared before the release that mounts them.
    const secret = (name: string, stringData: Record<string, pulumi.Input<string>>) =>
      new k8s.core.v1.Secret(name, { metadata: { name, namespace: this.namespace }, stringData }, { parent: this });
    const secrets: k8s.core.v1.Secret[] = [];
    if (install.grafana) {
      // Grafana reads its admin login from this Secret: the chart's default password is public
      // knowledge, and a password in Helm values would sit in the state in plain text.
      const password = new GeneratedPassword("grafana-admin", {}, { parent: this });
      secrets.push(secret(grafanaAdminSecretName, { "admin-user": install.grafana.adminUser, "admin-password": password.value }));
    }
    if (install.alertReceiver) {
      secrets.push(secret(alertReceiverSecret.name, { [alertReceiverSecret.key]: install.alertReceiver.credential }));
    }

    const chart =
      "path" in install.chart
        ? { chart: install.chart.path }
        : { chart: "kube-prometheus-stack", version: install.chart.version, repositoryOpts: { repo: install.chart.repository } };
    // A Release, not helm.v4.Chart: Helm's own install (hooks included, `helm list` and `helm
    // rollback` work), where helm.v4.Chart only renders templates and skips hooks. The CRDs come
    // with the chart, so objects of those kinds depend on it.
    new k8s.helm.v3.Release(
      name,
      {
        name: args.release,
        namespace: this.namespace,
        ...chart,
        values: pulumi.output(args.appNamespace).apply((appNamespace) => kubePrometheusStackValues(install, { release: args.release, namespace: args.namespace, appNamespace })),
        timeout: 600,
        maxHistory,
      },
      { parent: this, dependsOn: secrets },
    );
    this.registerOutputs({ namespace: this.namespace });
  }
}
