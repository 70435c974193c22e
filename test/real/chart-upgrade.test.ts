// A chart upgrade across a major as a user makes it, on the real node: a stack installed with
// kube-prometheus-stack 87.21.0 is moved to 88.5.3 by changing chartVersion and running `pulumi up`.
// Helm never upgrades a chart's CRDs; the chart's own CRD upgrade Job, which the program turns on,
// runs as real pods (busybox and kubectl from the mirror) before the install and before the upgrade,
// and the CRDs follow the chart's version. 87.21.0's own images cannot be built here (its operator,
// v0.92.1, and its kube-state-metrics are not reachable offline), so both releases run 88.5.3's.
// Each `it` stands on the one before it (--bail).
import type { Stack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { LocalCluster } from "../support/local-cluster";
import { standInImages } from "../support/standins";
import { pinnedVersions } from "../support/versions";
import { E2eProject, type StackConfig } from "../support/e2e-project";
import { realNode } from "./support/figures";

const namespace = "hitcounter-upgrade";
const release = `${namespace}-kps`;
const monitoringNamespace = `${namespace}-monitoring`;

describe("real node: kube-prometheus-stack 87.21.0 upgraded to 88.5.3 by `pulumi up`, its CRDs with it", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let stack: Stack;
  let config: StackConfig;

  /** The operator version each monitoring.coreos.com CRD was made for, and how many carry it. */
  async function crdVersions(): Promise<Record<string, number>> {
    const { items } = await cluster.apiExtensions.listCustomResourceDefinition();
    const versions: Record<string, number> = {};
    for (const crd of items.filter((c) => c.spec.group === "monitoring.coreos.com")) {
      const version = crd.metadata?.annotations?.["operator.prometheus.io/version"] ?? "none";
      versions[version] = (versions[version] ?? 0) + 1;
    }
    return versions;
  }

  async function operatorChart(): Promise<string | undefined> {
    const operator = await cluster.apps.readNamespacedDeployment({ name: `${release}-operator`, namespace: monitoringNamespace });
    expect(operator.status?.readyReplicas, "operator ready").to.equal(1);
    return operator.metadata?.labels?.chart;
  }

  before(async function () {
    cluster = new LocalCluster();
    await realNode(cluster);
    project = E2eProject.create(cluster.kubeconfig);
    const versions = pinnedVersions();
    config = {
      kubeContext: cluster.context,
      namespace,
      image: await cluster.publishService(`${project.dir}/service`, "upgrade"),
      redisImage: await cluster.pushImage(standInImages().REDIS_IMAGE, "redis", "bookworm"),
      serviceType: "ClusterIP",
      chartRepository: cluster.chartRepository,
      chartVersion: "87.21.0",
      monitoringImageRegistry: cluster.registry,
      grafanaEnabled: false,
      monitoringControlPlane: false,
      monitoringAdmissionWebhooks: false,
      monitoringChartValues: {
        prometheusOperator: {
          image: { tag: versions.PROMETHEUS_OPERATOR_VERSION },
          prometheusConfigReloader: { image: { tag: versions.PROMETHEUS_OPERATOR_VERSION } },
          kubeletService: { selector: "type!=kwok" },
        },
        prometheus: { prometheusSpec: { image: { tag: `${versions.PROMETHEUS_VERSION}-distroless` } } },
        alertmanager: { alertmanagerSpec: { image: { tag: versions.ALERTMANAGER_VERSION } } },
        "kube-state-metrics": { image: { tag: versions.KUBE_STATE_METRICS_VERSION } },
      },
    };
  });

  after(async function () {
    if (stack) await stack.destroy().catch(() => undefined);
    project?.remove();
  });

  it("installs 87.21.0: its CRD Job applies 87.21.0's CRDs (operator 0.92.1) on real pods, whatever CRDs were there", async function () {
    stack = await project.stack("upgrade", config);
    await stack.up();
    expect(await operatorChart()).to.equal("kube-prometheus-stack-87.21.0");
    expect(await crdVersions()).to.deep.equal({ "0.92.1": 10 });
  });

  it("`pulumi up` with chartVersion 88.5.3 upgrades the release, and the CRDs are 88.5.3's (operator 0.93.1)", async function () {
    config = { ...config, chartVersion: "88.5.3" };
    await project.configure(stack, config);
    await stack.up();
    expect(await operatorChart()).to.equal("kube-prometheus-stack-88.5.3");
    expect(await crdVersions()).to.deep.equal({ [pinnedVersions().PROMETHEUS_OPERATOR_VERSION.slice(1)]: 10 });
    const { items } = await cluster.core.listNamespacedSecret({ namespace: monitoringNamespace, labelSelector: `owner=helm,name=${release},status=deployed` });
    expect(items.map((s) => s.metadata?.labels?.version)).to.deep.equal(["2"]);
  });
});
