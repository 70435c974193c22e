// The real kube-prometheus-stack chart (vendored in ../shared/thirdparty, outside the clone) against
// what the program asks of it: the pinned version exists, and every value we set is one the chart
// reads. A key the chart does not have is silently ignored by Helm, so only this test sees a typo.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import yaml from "js-yaml";
import { kubePrometheusStackValues } from "../../components/monitoring/chart-values";
import { projectRoot } from "../support/paths";

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

function has(tree: Tree, dotted: string): boolean {
  let node: unknown = tree;
  for (const key of dotted.split(".")) {
    if (node === null || typeof node !== "object" || !(key in node)) return false;
    node = (node as Tree)[key];
  }
  return true;
}

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

  it("has every key of the values the program passes", () => {
    const chartValues = readYaml(path.join(chartDir, "values.yaml"));
    // The most the program ever sets: the offline profile and an alert receiver.
    const values = kubePrometheusStackValues({ admissionWebhooks: false, alertReceiver: { kind: "webhook", credential: pulumi.output("") } });
    const unknown = leafPaths(values).filter((key) => !has(chartValues, key));
    expect(unknown, "values keys the chart does not read").to.deep.equal([]);
  });
});
