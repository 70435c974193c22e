// The real kube-prometheus-stack chart (vendored in ../shared/thirdparty, outside the clone) against
// what the program asks of it: the pinned version exists, and every value we set is one the chart
// reads. A key the chart does not have is silently ignored by Helm, so only this test sees a typo.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import yaml from "js-yaml";
import type { ChartInstall } from "../../components/config";
import { crdUpgradeBusyboxTag, kubePrometheusStackValues } from "../../components/monitoring/chart-values";
import { projectRoot } from "../support/paths";
import { pinnedVersions } from "../support/versions";

const chartDir = path.join(projectRoot, "..", "shared", "thirdparty", "charts", "kube-prometheus-stack");

type Tree = Record<string, unknown>;

function readYaml(file: string): Tree {
  return yaml.load(fs.readFileSync(file, "utf8")) as Tree;
}

/** Dotted paths of every leaf of `values`. */
function leafPaths(values: Tree, prefix = ""): string[] {
  return Object.entries(values).flatMap(([key, value]) =>
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? leafPaths(value as Tree, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

/** Whether values.yaml declares the key, or a free-form map above it (`{}`, such as a label selector). */
function has(tree: Tree, dotted: string): boolean {
  let node: unknown = tree;
  for (const key of dotted.split(".")) {
    if (node === null || typeof node !== "object") return false;
    if (!(key in node)) return Object.keys(node).length === 0 && node !== tree;
    node = (node as Tree)[key];
  }
  return true;
}

/** The text of every template of the chart in `dir`. */
function templatesOf(dir: string): string {
  const templatesDir = path.join(dir, "templates");
  return fs
    .readdirSync(templatesDir, { recursive: true, encoding: "utf8" })
    .filter((file) => fs.statSync(path.join(templatesDir, file)).isFile())
    .map((file) => fs.readFileSync(path.join(templatesDir, file), "utf8"))
    .join("\n");
}

function readsValue(templates: string, key: string): boolean {
  return new RegExp(`\\.Values\\.${key.replaceAll(".", "\\.")}(?![\\w-])`).test(templates);
}

/**
 * The keys of `values` that no chart reads. A key under a subchart's name (grafana.*,
 * kube-state-metrics.*, prometheus-node-exporter.*) is passed to that subchart, so it must be in the
 * subchart's own values.yaml: the parent's values.yaml still lists keys the subchart has dropped.
 * The exceptions are a key the parent's templates read themselves, such as grafana.enabled, and one
 * the subchart's templates read without declaring it (the crds subchart's upgradeJob.*).
 * (kubeStateMetrics.* and nodeExporter.* are the parent's switches for those subcharts.)
 */
function unreadKeys(values: Tree): string[] {
  const chart = readYaml(path.join(chartDir, "Chart.yaml")) as { dependencies: { name: string; alias?: string }[] };
  const subcharts = new Set(chart.dependencies.map((d) => d.alias ?? d.name));
  const parentValues = readYaml(path.join(chartDir, "values.yaml"));
  const parentTemplates = templatesOf(chartDir);
  return leafPaths(values).filter((key) => {
    const [head, ...rest] = key.split(".");
    if (!subcharts.has(head)) return !has(parentValues, key);
    const subchart = path.join(chartDir, "charts", head);
    const subkey = rest.join(".");
    return !has(readYaml(path.join(subchart, "values.yaml")), subkey) && !readsValue(templatesOf(subchart), subkey) && !readsValue(parentTemplates, key);
  });
}

// Extra values as the repository's own stacks set them (scripts/cluster/local-stack.sh, test/real), and a
// login for a mirror registry.
const extraValues = {
  global: { imagePullSecrets: [{ name: "mirror-login" }] },
  prometheusOperator: { admissionWebhooks: { patch: { image: { tag: "1.7.3" } } }, kubeletService: { selector: "type!=kwok" } },
  alertmanager: { config: { route: { group_interval: "30s" } } },
  grafana: { sidecar: { dashboards: { searchNamespace: "ALL" } } },
};

// The most the program ever sets: every setting away from its default, with and without Grafana.
const everySettingOn: Omit<ChartInstall, "chart"> = {
  grafana: { adminUser: "admin" },
  alertReceiver: { kind: "webhook", credential: pulumi.output("") },
  admissionWebhooks: false,
  imageRegistry: "127.0.0.1:5000",
  controlPlane: false,
  chartValues: extraValues,
};
const profiles = {
  "with every setting on (mirror registry, control plane off, extra values)": everySettingOn,
  "without the chart's Grafana": { ...everySettingOn, grafana: undefined },
};

describe("the vendored kube-prometheus-stack chart", () => {
  before(() => {
    if (!fs.existsSync(path.join(chartDir, "Chart.yaml"))) {
      throw new Error(`no chart at ${chartDir}: this suite needs ../shared/thirdparty beside the clone`);
    }
  });

  it("is the version Pulumi.yaml pins", () => {
    const chart = readYaml(path.join(chartDir, "Chart.yaml"));
    const project = readYaml(path.join(projectRoot, "Pulumi.yaml")) as { config: Record<string, { default: unknown }> };
    expect(chart.name).to.equal("kube-prometheus-stack");
    expect(String(project.config.chartVersion.default)).to.equal(chart.version);
  });

  it("runs the components scripts/toolchain/tools.sh builds and scripts/images/monitoring-images.sh pushes, at their versions", () => {
    const versions = pinnedVersions();
    const chart = readYaml(path.join(chartDir, "Chart.yaml"));
    const values = readYaml(path.join(chartDir, "values.yaml")) as Record<string, Record<string, Tree>>;
    const image = (tree: unknown) => (tree as { image: { repository: string; tag: string } }).image;
    const kubeStateMetrics = readYaml(path.join(chartDir, "charts", "kube-state-metrics", "Chart.yaml"));
    expect({
      operator: chart.appVersion,
      prometheus: `${image(values.prometheus.prometheusSpec).repository}:${image(values.prometheus.prometheusSpec).tag}`,
      alertmanager: `${image(values.alertmanager.alertmanagerSpec).repository}:${image(values.alertmanager.alertmanagerSpec).tag}`,
      kubeStateMetrics: `v${kubeStateMetrics.appVersion}`,
      // Not ours: the certgen built here is older (KUBE_WEBHOOK_CERTGEN_VERSION), and stacks on this
      // machine override the tag; a chart bump that changes this should make someone look again.
      certgen: `${image(values.prometheusOperator.admissionWebhooks.patch).repository}:${image(values.prometheusOperator.admissionWebhooks.patch).tag}`,
      crdUpgradeBusybox: crdUpgradeBusyboxTag,
    }).to.deep.equal({
      operator: versions.PROMETHEUS_OPERATOR_VERSION,
      prometheus: `prometheus/prometheus:${versions.PROMETHEUS_VERSION}-distroless`,
      alertmanager: `prometheus/alertmanager:${versions.ALERTMANAGER_VERSION}`,
      kubeStateMetrics: versions.KUBE_STATE_METRICS_VERSION,
      certgen: "jkroepke/kube-webhook-certgen:1.8.7",
      crdUpgradeBusybox: versions.BUSYBOX_VERSION,
    });
  });

  for (const [profile, settings] of Object.entries(profiles)) {
    it(`reads every key of the values the program passes ${profile}`, () => {
      expect(unreadKeys(kubePrometheusStackValues(settings, { release: "hitcounter-kps", namespace: "monitoring", appNamespace: "hitcounter" })), "values keys no chart reads").to.deep.equal([]);
    });
  }

  it("finds a subchart's key that only the parent's values.yaml still lists, and a misspelt one", () => {
    // The parent's values.yaml still lists rbac.pspEnabled under prometheus-node-exporter, which
    // that subchart no longer reads.
    const values = {
      grafana: { enabled: true, sidecar: { dashboards: { labelValu: "1" } } },
      "prometheus-node-exporter": { rbac: { pspEnabled: false } },
    };
    expect(unreadKeys(values)).to.deep.equal(["grafana.sidecar.dashboards.labelValu", "prometheus-node-exporter.rbac.pspEnabled"]);
  });
});
