// Prometheus, Alertmanager and kube-state-metrics at the pinned chart's versions (built by
// scripts/tools.sh), run as processes on this machine beside the real node. They stand in for the
// chart's operator-managed workloads, which cannot be installed here: the vendored chart lacks its
// dependency charts, so Helm refuses it. Everything they are given comes from what the program put
// in the cluster: the ServiceMonitor, turned into the scrape job the operator would generate from it;
// the PrometheusRule; and Alertmanager's config from the release's values (as the chart stand-in
// recorded them) merged into the chart's defaults, with the receiver's credential read from the
// Secret the chart would mount.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { helmMerge } from "../../support/helm-values";
import { freePort, waitForPort } from "../../../scripts/lib/net";
import { eventually, type LocalCluster } from "../../support/local-cluster";
import { projectRoot } from "../../support/paths";
import type { Manifest } from "../../support/pulumi-mocks";
import { pinnedVersions } from "../../support/versions";

const bin = path.join(projectRoot, ".tools", "bin");
const chartValuesFile = path.join(projectRoot, "..", "shared", "thirdparty", "charts", "kube-prometheus-stack", "values.yaml");
// Where the chart mounts the Secrets named in alertmanager.alertmanagerSpec.secrets.
const chartSecretsDir = "/etc/alertmanager/secrets";
// The real node's kubelet, at the node address scripts/versions.env pins, for cAdvisor's series.
const kubeletTarget = `${pinnedVersions().NODE_IP}:10250`;

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

interface ServiceMonitor {
  metadata: { name: string; namespace: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: { port: string; path?: string; interval?: string }[];
  };
}

/** The scrape jobs prometheus-operator generates for a ServiceMonitor (role endpointslice). */
export function serviceMonitorJobs(monitor: ServiceMonitor, kubeconfig: string): Manifest[] {
  const metaName = (label: string) => label.replace(/[^a-zA-Z0-9_]/g, "_");
  const literal = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return monitor.spec.endpoints.map((endpoint, index) => ({
    job_name: `serviceMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/${index}`,
    scrape_interval: endpoint.interval ?? "30s",
    metrics_path: endpoint.path ?? "/metrics",
    kubernetes_sd_configs: [{ role: "endpointslice", kubeconfig_file: kubeconfig, namespaces: { names: monitor.spec.namespaceSelector.matchNames } }],
    relabel_configs: [
      ...Object.entries(monitor.spec.selector.matchLabels).map(([label, value]) => ({
        action: "keep",
        source_labels: [`__meta_kubernetes_service_label_${metaName(label)}`, `__meta_kubernetes_service_labelpresent_${metaName(label)}`],
        regex: `(${literal(value)});true`,
      })),
      { action: "keep", source_labels: ["__meta_kubernetes_endpointslice_port_name"], regex: literal(endpoint.port) },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
      { source_labels: ["__meta_kubernetes_service_name"], target_label: "job" },
      { target_label: "endpoint", replacement: endpoint.port },
    ],
  }));
}

/** One process of the stack, its output in <dir>/<name>.log. */
function startProcess(dir: string, name: string, args: string[]): ChildProcess {
  const command = path.join(bin, name);
  if (!fs.existsSync(command)) throw new Error(`no ${name} in .tools/bin: run scripts/tools.sh first`);
  const log = fs.openSync(path.join(dir, `${name}.log`), "w");
  const child = spawn(command, args, { stdio: ["ignore", log, log] });
  child.on("exit", () => fs.closeSync(log));
  return child;
}

export class HostMonitoring {
  private readonly processes: ChildProcess[] = [];
  prometheusUrl = "";

  private constructor(private readonly dir: string) {}

  /**
   * Starts the three processes for the app in `namespace`, monitoring objects in
   * `monitoringNamespace`. `groupInterval` shortens Alertmanager's wait between notifications of
   * one group (the chart's 5m) so a test sees the resolved notice within a minute.
   */
  static async start(cluster: LocalCluster, options: { namespace: string; monitoringNamespace: string; dir: string; groupInterval: string }): Promise<HostMonitoring> {
    if (!fs.existsSync(chartValuesFile)) throw new Error(`no chart at ${path.dirname(chartValuesFile)}: this suite needs ../shared/thirdparty beside the clone`);
    const monitoring = new HostMonitoring(options.dir);
    try {
      await monitoring.launch(cluster, options);
    } catch (error) {
      monitoring.stop();
      throw error;
    }
    return monitoring;
  }

  private async launch(cluster: LocalCluster, { namespace, monitoringNamespace, groupInterval }: { namespace: string; monitoringNamespace: string; groupInterval: string }) {
    const dir = this.dir;
    const file = (name: string, content: unknown) => {
      const target = path.join(dir, name);
      fs.writeFileSync(target, typeof content === "string" ? content : yaml.dump(content, { lineWidth: -1 }));
      return target;
    };
    const [ksmPort, alertmanagerPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];

    // kube-state-metrics, for the replica, request and restart series; the chart runs it with
    // honorLabels, so its namespace/pod labels are the objects', not the scrape's.
    this.processes.push(
      startProcess(dir, "kube-state-metrics", [
        `--kubeconfig=${cluster.kubeconfig}`,
        "--host=127.0.0.1",
        `--port=${ksmPort}`,
        "--telemetry-host=127.0.0.1",
        `--telemetry-port=${await freePort()}`,
        `--namespaces=${namespace}`,
        "--resources=pods,deployments,horizontalpodautoscalers",
      ]),
    );

    // Alertmanager: the chart's default config with the release's values merged in.
    const recorded = await cluster.core.readNamespacedConfigMap({ name: "kube-prometheus-stack-standin-values", namespace: monitoringNamespace });
    const values = JSON.parse(recorded.data?.["values.json"] ?? "{}");
    const chartValues = yaml.load(fs.readFileSync(chartValuesFile, "utf8")) as Manifest;
    let config = JSON.stringify(helmMerge(chartValues.alertmanager.config, values.alertmanager?.config ?? {}));
    for (const name of values.alertmanager?.alertmanagerSpec?.secrets ?? []) {
      const secret = await cluster.core.readNamespacedSecret({ name, namespace: monitoringNamespace });
      fs.mkdirSync(path.join(dir, "secrets", name), { recursive: true });
      for (const [key, data] of Object.entries(secret.data ?? {})) fs.writeFileSync(path.join(dir, "secrets", name, key), Buffer.from(data, "base64"));
      config = config.replaceAll(`${chartSecretsDir}/${name}/`, `${path.join(dir, "secrets", name)}/`);
    }
    const alertmanagerConfig = JSON.parse(config);
    alertmanagerConfig.route.group_interval = groupInterval;
    delete alertmanagerConfig.templates;
    this.processes.push(
      startProcess(dir, "alertmanager", [
        `--config.file=${file("alertmanager.yaml", alertmanagerConfig)}`,
        `--storage.path=${path.join(dir, "alertmanager-data")}`,
        `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
        // One instance: no gossip port on every interface.
        "--cluster.listen-address=",
      ]),
    );

    // Prometheus: our ServiceMonitor's job, the kubelet's cAdvisor, kube-state-metrics, our rules.
    const monitor = (await cluster.custom.getNamespacedCustomObject({
      group: "monitoring.coreos.com", version: "v1", namespace, plural: "servicemonitors", name: "hit-counter",
    })) as ServiceMonitor;
    const rule = (await cluster.custom.getNamespacedCustomObject({
      group: "monitoring.coreos.com", version: "v1", namespace, plural: "prometheusrules", name: "hit-counter",
    })) as Manifest;
    const user = new k8s.KubeConfig();
    user.loadFromFile(cluster.kubeconfig);
    const credentials = user.getCurrentUser();
    const certFile = credentials?.certFile ?? file("client.crt", Buffer.from(credentials?.certData ?? "", "base64").toString());
    const keyFile = credentials?.keyFile ?? file("client.key", Buffer.from(credentials?.keyData ?? "", "base64").toString());
    const prometheusConfig = {
      // The operator's defaults for a Prometheus the chart creates.
      global: { scrape_interval: "30s", evaluation_interval: "30s" },
      rule_files: [file("hit-counter.rules.yaml", { groups: rule.spec.groups })],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanagerPort}`] }] }] },
      scrape_configs: [
        ...serviceMonitorJobs(monitor, cluster.kubeconfig),
        {
          job_name: "kubelet",
          scheme: "https",
          metrics_path: "/metrics/cadvisor",
          scrape_interval: "15s",
          honor_labels: true,
          tls_config: { insecure_skip_verify: true, cert_file: certFile, key_file: keyFile },
          static_configs: [{ targets: [kubeletTarget] }],
        },
        { job_name: "kube-state-metrics", scrape_interval: "15s", honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${ksmPort}`] }] },
      ],
    };
    this.processes.push(
      startProcess(dir, "prometheus", [
        `--config.file=${file("prometheus.yaml", prometheusConfig)}`,
        `--storage.tsdb.path=${path.join(dir, "prometheus-data")}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ]),
    );
    this.prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    for (const port of [ksmPort, alertmanagerPort, prometheusPort]) await waitForPort(port, 30_000);
    await eventually("Prometheus ready", async () => ((await fetch(`${this.prometheusUrl}/-/ready`)).ok ? true : undefined), { timeoutMs: 60_000, intervalMs: 1_000 });
  }

  /** An instant query's result. */
  async query(expr: string): Promise<Sample[]> {
    const response = await fetch(`${this.prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  /** The last lines of a process's log, for a failure message. */
  logTail(name: string, lines = 20): string {
    const file = path.join(this.dir, `${name}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";
  }

  stop(): void {
    for (const child of this.processes) child.kill("SIGTERM");
  }
}
