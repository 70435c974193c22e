// The kube-prometheus-stack settings monitoringImageRegistry, grafanaEnabled and monitoringChartValues
// through the real program under mocks (monitoringControlPlane, set per stack file, is checked in
// monitoring.test.ts; each key's refusals in config.test.ts).
import { expect } from "chai";
import { declaredResource, type Manifest, type ProgramRun, runProgram } from "../support/pulumi-mocks";
import { resourceType } from "../support/resource-types";

const watched = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["hitcounter-dev", "hitcounter-dev-monitoring"] }] };
const watchedNamespaces = {
  serviceMonitorNamespaceSelector: watched,
  podMonitorNamespaceSelector: watched,
  probeNamespaceSelector: watched,
  ruleNamespaceSelector: watched,
};

function releaseValues(run: ProgramRun): Manifest {
  return declaredResource(run, resourceType.release, "kube-prometheus-stack").values;
}

describe("a registry that mirrors the chart's images (monitoringImageRegistry)", () => {
  it("is the chart's global registry, which every image of the chart and its subcharts is pulled from", async () => {
    const run = await runProgram("dev", { config: { monitoringImageRegistry: "registry.example.com:5000/mirror" } });
    expect(releaseValues(run).global).to.deep.equal({ imageRegistry: "registry.example.com:5000/mirror" });
  });
});

describe("the chart's Grafana (grafanaEnabled)", () => {
  it("false leaves out Grafana and its admin login, keeps the dashboard for a Grafana of the team's, and says so in the outputs", async () => {
    const run = await runProgram("dev", { config: { grafanaEnabled: false } });
    expect(releaseValues(run).grafana).to.deep.equal({ enabled: false });
    expect(run.resources.filter((r) => r.name === "grafana-admin"), "no admin Secret or password").to.deep.equal([]);
    const dashboard = declaredResource(run, resourceType.configMap, "hit-counter-dashboard");
    expect(dashboard.metadata).to.deep.include({ namespace: "hitcounter-dev-monitoring", labels: { grafana_dashboard: "1" } });
    const none = "none: grafanaEnabled is false; ConfigMap hitcounter-dev-monitoring/hit-counter-hitcounter-dev (label grafana_dashboard=1) holds the dashboard for a Grafana of your own";
    expect(run.outputs).to.deep.include({ grafanaPortForward: none, grafanaAdminPasswordCommand: none });
  });
});

describe("extra chart values (monitoringChartValues)", () => {
  it("are merged over ours as Helm merges values files: maps key by key, lists and scalars replaced, theirs winning", async () => {
    const run = await runProgram("dev", {
      config: {
        alertWebhookUrl: "https://alerts.example.com/hook",
        monitoringChartValues: {
          prometheus: { prometheusSpec: { retention: "30d", ruleSelectorNilUsesHelmValues: true } },
          nodeExporter: { enabled: true },
          grafana: { sidecar: { dashboards: { labelValue: "yes" } } },
          alertmanager: { alertmanagerSpec: { secrets: ["smtp-ca"] } },
        },
      },
      secretKeys: ["alertWebhookUrl"],
    });
    const values = releaseValues(run);
    expect(values.prometheus.prometheusSpec).to.deep.equal({
      serviceMonitorSelectorNilUsesHelmValues: false,
      podMonitorSelectorNilUsesHelmValues: false,
      probeSelectorNilUsesHelmValues: false,
      ruleSelectorNilUsesHelmValues: true,
      ...watchedNamespaces,
      retention: "30d",
    });
    expect(values.nodeExporter).to.deep.equal({ enabled: true });
    expect(values.grafana).to.deep.equal({
      admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
      sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "yes" } },
    });
    expect(values.alertmanager.alertmanagerSpec).to.deep.equal({ secrets: ["smtp-ca"] });
    expect(values.alertmanager.config.route).to.deep.equal({ receiver: "hit-counter" });
  });

  it("accepts keys named like a credential that hold none: empty, or naming a Secret's key", async () => {
    const monitoringChartValues = { grafana: { adminPassword: "", smtp: { existingSecret: "grafana-smtp", passwordKey: "password" } } };
    const run = await runProgram("dev", { config: { monitoringChartValues } });
    expect(releaseValues(run).grafana).to.deep.include({ adminPassword: "" });
    expect(releaseValues(run).grafana.smtp).to.include({ passwordKey: "password" });
  });
});
