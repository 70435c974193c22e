// Monitoring: chart, ServiceMonitor, rules, dashboard (each stack file through the real program under Pulumi mocks).
import { expect } from "chai";
import { declaredResource, type Manifest } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";
import { forEachStack } from "./stacks";

forEachStack("monitoring: chart, ServiceMonitor, rules, dashboard", (the, expected) => {
  it("installs kube-prometheus-stack 88.5.3 as a Helm release named for the stack, in a namespace of its own, keeping 10 revisions", () => {
    const release = declaredResource(the.run, k8s.release, "kube-prometheus-stack");
    const monitoringNamespace = `${expected.namespace}-monitoring`;
    expect(release).to.deep.include({ name: `${expected.namespace}-kps`, chart: "kube-prometheus-stack", version: "88.5.3", namespace: monitoringNamespace, maxHistory: 10 });
    expect(release.repositoryOpts).to.deep.equal({ repo: "https://prometheus-community.github.io/helm-charts" });
    expect(declaredResource(the.run, k8s.namespace, monitoringNamespace).metadata.name).to.equal(monitoringNamespace);
    // Its objects are named <release>-operator, <release>-prometheus, ..., whatever the chart's own truncation.
    expect(release.values.fullnameOverride).to.equal(`${expected.namespace}-kps`);
  });

  it("shares a cluster: its operator runs only its own Prometheus and Alertmanager, which read monitors and rules from its own and the app's namespace only", () => {
    const values = declaredResource(the.run, k8s.release, "kube-prometheus-stack").values;
    const own = [`${expected.namespace}-monitoring`];
    expect(values.prometheusOperator).to.deep.equal({ prometheusInstanceNamespaces: own, alertmanagerInstanceNamespaces: own, thanosRulerInstanceNamespaces: own });
    const prometheus = values.prometheus.prometheusSpec;
    // nil selectors that do not fall back to the chart's `release` label select every object in the watched namespaces.
    expect(prometheus.serviceMonitorSelectorNilUsesHelmValues).to.equal(false);
    expect(prometheus.ruleSelectorNilUsesHelmValues).to.equal(false);
    expect(prometheus).not.to.have.any.keys("serviceMonitorSelector", "ruleSelector");
    const watched = { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [expected.namespace, own[0]] }] };
    for (const selector of ["serviceMonitorNamespaceSelector", "podMonitorNamespaceSelector", "probeNamespaceSelector", "ruleNamespaceSelector"]) {
      expect(prometheus[selector], selector).to.deep.equal(watched);
    }
    expect(values.grafana.admin).to.deep.equal({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
  });

  it("upgrades the CRDs with the chart: its own hook Job applies the new version's CRDs before the upgrade, busybox pinned", () => {
    const values = declaredResource(the.run, k8s.release, "kube-prometheus-stack").values;
    expect(values.crds).to.deep.equal({ upgradeJob: { enabled: true, forceConflicts: true, image: { busybox: { tag: "1.37.0" } } } });
  });

  it("keeps the chart's admission webhook and image registries, and sends alerts nowhere but Alertmanager's UI until a receiver is set", () => {
    const release = declaredResource(the.run, k8s.release, "kube-prometheus-stack");
    expect(release.values).not.to.have.any.keys("alertmanager", "global");
    expect(release.values.prometheusOperator).not.to.have.any.keys("admissionWebhooks", "tls");
  });

  it(`${expected.controlPlaneScraped ? "scrapes" : "leaves out"} the control plane's components, their default rules included (monitoringControlPlane)`, () => {
    const values = declaredResource(the.run, k8s.release, "kube-prometheus-stack").values;
    const components = ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"];
    if (expected.controlPlaneScraped) {
      expect(values).not.to.have.any.keys([...components, "defaultRules"]);
      return;
    }
    for (const component of components) expect(values[component], component).to.deep.equal({ enabled: false });
    const rules = { kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, etcd: false, kubeProxy: false };
    expect(values.defaultRules).to.deep.equal({ rules });
  });

  it("scrapes /metrics from the backend Service's http port every 15 s", () => {
    const monitor = declaredResource(the.run, k8s.serviceMonitor, "hit-counter");
    expect(the.backendService.metadata.labels).to.include(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector).to.deep.equal({ matchNames: [expected.namespace] });
    expect(monitor.spec.endpoints).to.deep.equal([{ port: the.backendService.spec.ports[0].name, path: "/metrics", interval: "15s" }]);
  });

  it("alerts on 5xx ratio, Redis errors, restarts and the HPA stuck at max", () => {
    const rule = declaredResource(the.run, k8s.prometheusRule, "hit-counter");
    const rules = rule.spec.groups[0].rules;
    expect(rules.map((r: Manifest) => r.alert)).to.deep.equal([
      "HitCounterHighErrorRatio",
      "HitCounterRedisUnreachable",
      "HitCounterPodsRestarting",
      "HitCounterAtMaxReplicas",
    ]);
    expect(rules[1].expr).to.equal(`sum(rate(redis_errors_total{namespace="${expected.namespace}", service="hit-counter"}[2m])) > 0`);
    expect(rules[3].expr).to.contain(`horizontalpodautoscaler="hit-counter"`);
  });

  it("ships a Grafana dashboard the sidecar loads, with the panels of the issue", () => {
    const dashboard = declaredResource(the.run, k8s.configMap, "hit-counter-dashboard");
    // Named, and given a uid, for the app's namespace: stacks sharing a Grafana keep a dashboard each.
    expect(dashboard.metadata).to.deep.include({ name: `hit-counter-${expected.namespace}`, namespace: `${expected.namespace}-monitoring`, labels: { grafana_dashboard: "1" } });
    expect(JSON.parse(dashboard.data["hit-counter.json"])).to.include({ uid: `hit-counter-${expected.namespace}`, title: `Hit counter (${expected.namespace})` });
    const panels = JSON.parse(dashboard.data["hit-counter.json"]).panels;
    expect(panels.map((p: Manifest) => p.title)).to.deep.equal([
      "Request rate by status",
      "Error rate (5xx share)",
      "Latency",
      "Replicas",
      "CPU against requests",
      "Memory against requests",
      "Hits counted in range",
    ]);
    expect(panels[2].targets.map((t: Manifest) => t.legendFormat)).to.deep.equal(["p50", "p95", "p99"]);
    expect(panels[3].targets.map((t: Manifest) => t.legendFormat)).to.deep.equal(["desired", "current", "max"]);
  });
});
