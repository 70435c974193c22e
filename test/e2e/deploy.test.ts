// What the CLI path (cli.test.ts) does not cover, through an Automation API inline program on the
// same kwok control plane (real kube-apiserver, controller-manager with the HPA controller, Pod
// Security admission, metrics-server) and registry: the prebuilt-image path (the stack's `image`
// key, an image the suite builds and pushes itself), monitoring's objects, the HPA scaling on
// simulated CPU, a config change, destroy and up again. Monitoring is the real kube-prometheus-stack
// chart from the loopback chart repository; kwok runs its pods as fakes, so this suite checks what the
// chart made of our values, and test/real runs the same chart's pods for real. Each `it` is one step, in order: the suite
// stops at the first failure (--bail), since later steps stand on earlier ones.
import * as path from "node:path";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { HpaWatcher, type HpaSnapshot } from "../../stress/cluster/hpa-watch";
import { eventually, LocalCluster, pulumiManagers, replicaManagers } from "../support/local-cluster";
import { pinnedVersions } from "../support/versions";
import { E2eProject, type StackConfig } from "../support/e2e-project";

const namespace = "hitcounter-e2e";
const monitoringNamespace = "monitoring-e2e";
// The stack's release is named for its namespace (components/config.ts).
const release = `${namespace}-kps`;
const backendSelector = "app.kubernetes.io/name=hit-counter,app.kubernetes.io/component=backend";
const kwokCpuUsage = "kwok.x-k8s.io/usage-cpu";

/** The resources a step plans, as `type name -> op`, from the engine's own events. */
function planRecorder() {
  const steps = new Map<string, OpType>();
  const onEvent = (event: EngineEvent) => {
    const step = event.resourcePreEvent?.metadata;
    // The dynamic providers' host is handed the whole stack config, so any config change "updates"
    // it; that is bookkeeping, not a change to a resource.
    if (step && step.type !== "pulumi:pulumi:Stack" && step.type !== "pulumi:providers:pulumi-nodejs") {
      steps.set(`${step.type} ${step.urn.split("::").pop()}`, step.op);
    }
  };
  const changed = () => [...steps].filter(([, op]) => op !== "same").map(([resource, op]) => `${op} ${resource}`).sort();
  return { steps, onEvent, changed };
}

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] };


describe("end to end: the dev-like stack on a local cluster", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let stack: Stack;
  let config: StackConfig;

  before(async function () {
    cluster = new LocalCluster();
    project = E2eProject.create(cluster.kubeconfig);
    config = {
      kubeContext: cluster.context,
      namespace,
      image: await cluster.publishService(path.join(project.dir, "service"), "e2e"),
      serviceType: "NodePort",
      minReplicas: 1,
      maxReplicas: 4,
      scaleUpStabilizationSeconds: 0,
      // Short, so the scale-in is seen within the suite.
      scaleDownStabilizationSeconds: 15,
      monitoringEnabled: true,
      monitoringNamespace,
      chartRepository: cluster.chartRepository,
      monitoringImageRegistry: cluster.registry,
      // kwok's fake operator pod cannot answer the admission webhook, which would refuse our rules;
      // the webhook path runs for real in test/real.
      monitoringAdmissionWebhooks: false,
    };
  });

  after(async function () {
    if (stack) await stack.destroy().catch(() => undefined);
    if (stack) await stack.workspace.removeStack(stack.name).catch(() => undefined);
    project?.remove();
  });

  it("previews every resource of the program", async function () {
    stack = await project.stack("e2e", config);
    const plan = planRecorder();
    const preview = await stack.preview({ onEvent: plan.onEvent });
    expect(preview.changeSummary.create).to.be.greaterThan(0);
    expect([...plan.steps.keys()]).to.include.members([
      `kubernetes:core/v1:Namespace ${namespace}`,
      "kubernetes:core/v1:Secret redis",
      "kubernetes:apps/v1:Deployment redis",
      "kubernetes:core/v1:Service redis",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy redis",
      "kubernetes:apps/v1:Deployment hit-counter",
      "kubernetes:core/v1:Service hit-counter",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler hit-counter",
      "kubernetes:helm.sh/v3:Release kube-prometheus-stack",
      "pulumi:providers:kubernetes cluster",
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor hit-counter",
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule hit-counter",
      "kubernetes:core/v1:ConfigMap hit-counter-dashboard",
    ]);
    expect([...plan.steps.values()]).to.satisfy((ops: OpType[]) => ops.every((op) => op === "create"));
  });

  it("deploys: every Deployment rolls out, admitted by a namespace that enforces Pod Security restricted", async function () {
    const result = await stack.up();
    expect(result.summary.result).to.equal("succeeded");
    const ns = await cluster.core.readNamespace({ name: namespace });
    expect(ns.metadata?.labels).to.include({ "pod-security.kubernetes.io/enforce": "restricted" });
    for (const name of ["hit-counter", "redis"]) {
      const deployment = await cluster.apps.readNamespacedDeployment({ name, namespace });
      expect(deployment.status?.readyReplicas, `${name} ready replicas`).to.equal(deployment.spec?.replicas);
      expect(deployment.status?.updatedReplicas, `${name} updated replicas`).to.equal(deployment.spec?.replicas);
    }
    const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: backendSelector });
    expect(pods.items).to.have.lengthOf(1);
    expect(pods.items[0].status?.phase).to.equal("Running");
  });

  it("runs the exact digest that is in the local registry, never a tag", async function () {
    const outputs = await stack.outputs();
    const reference = outputs.imageReference.value as string;
    const digest = await cluster.registryDigest("hit-counter", "e2e");
    expect(reference).to.equal(`${cluster.registry}/hit-counter@${digest}`).and.equal(config.image);
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(deployment.spec?.template.spec?.containers.map((c) => c.image)).to.deep.equal([reference]);
  });

  it("creates the objects the stack config asks for", async function () {
    const hpa = await cluster.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "hit-counter", namespace });
    expect(hpa.spec?.scaleTargetRef).to.include({ apiVersion: "apps/v1", kind: "Deployment", name: "hit-counter" });
    expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).to.deep.equal([1, 4]);
    expect(hpa.spec?.metrics?.map((m) => [m.resource?.name, m.resource?.target.averageUtilization])).to.deep.equal([
      ["cpu", 50],
      ["memory", 50],
    ]);
    expect(hpa.spec?.behavior?.scaleUp?.stabilizationWindowSeconds).to.equal(0);
    expect(hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).to.equal(15);
    // Server-side apply must leave the replica count to the HPA.
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(pulumiManagers(replicaManagers(deployment))).to.deep.equal([]);

    const policy = await cluster.networking.readNamespacedNetworkPolicy({ name: "redis", namespace });
    expect(policy.spec?.podSelector?.matchLabels).to.include({ "app.kubernetes.io/name": "redis" });
    expect(policy.spec?.ingress?.[0].ports?.map((p) => p.port)).to.deep.equal([6379]);
    expect(policy.spec?.ingress?.[0]._from?.map((peer) => peer.podSelector?.matchLabels)).to.deep.include({
      "app.kubernetes.io/name": "hit-counter",
      "app.kubernetes.io/component": "backend",
      "app.kubernetes.io/part-of": "hit-counter",
    });

    const redisSecret = await cluster.core.readNamespacedSecret({ name: "redis-auth", namespace });
    const password = Buffer.from(Object.values(redisSecret.data ?? {})[0] ?? "", "base64").toString();
    expect(password).to.have.length.of.at.least(32);
    const backend = deployment.spec?.template.spec?.containers[0];
    expect(backend?.env?.find((e) => e.name === "REDIS_PASSWORD")?.valueFrom?.secretKeyRef?.name).to.equal("redis-auth");
    const grafanaSecret = await cluster.core.readNamespacedSecret({ name: "grafana-admin", namespace: monitoringNamespace });
    const grafanaPassword = Buffer.from(grafanaSecret.data?.["admin-password"] ?? "", "base64").toString();
    expect(grafanaPassword).to.have.length.of.at.least(32).and.not.equal("prom-operator");

    const monitor = (await cluster.custom.getNamespacedCustomObject({
      group: "monitoring.coreos.com", version: "v1", namespace, plural: "servicemonitors", name: "hit-counter",
    })) as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path?: string }[] } };
    const service = await cluster.core.readNamespacedService({ name: "hit-counter", namespace });
    expect(service.metadata?.labels).to.include(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints.map((e) => e.port)).to.deep.equal(service.spec?.ports?.map((p) => p.name));

    const rules = (await cluster.custom.getNamespacedCustomObject({
      group: "monitoring.coreos.com", version: "v1", namespace, plural: "prometheusrules", name: "hit-counter",
    })) as { spec: { groups: { rules: { alert?: string }[] }[] } };
    expect(rules.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)).length).to.be.at.least(4);

    const dashboard = await cluster.core.readNamespacedConfigMap({ name: `hit-counter-${namespace}`, namespace: monitoringNamespace });
    expect(dashboard.metadata?.labels).to.include({ grafana_dashboard: "1" });
    const panels = (JSON.parse(Object.values(dashboard.data ?? {})[0] ?? "{}") as { panels?: unknown[] }).panels;
    expect(panels?.length).to.be.at.least(6);
  });

  it("installs the real kube-prometheus-stack: its CRDs, operator, Prometheus, Alertmanager, kube-state-metrics and Grafana, from the mirror registry, wired to our objects", async function () {
    const { items: crds } = await cluster.apiExtensions.listCustomResourceDefinition();
    const monitoringCrds = crds.filter((crd) => crd.spec.group === "monitoring.coreos.com");
    expect(monitoringCrds.map((crd) => crd.spec.names.plural).sort()).to.deep.equal([
      "alertmanagerconfigs", "alertmanagers", "podmonitors", "probes", "prometheusagents", "prometheuses", "prometheusrules", "scrapeconfigs", "servicemonitors", "thanosrulers",
    ]);
    expect([...new Set(monitoringCrds.map((crd) => crd.metadata?.annotations?.["operator.prometheus.io/version"]))]).to.deep.equal([pinnedVersions().PROMETHEUS_OPERATOR_VERSION.slice(1)]);

    const deployments = (await cluster.apps.listNamespacedDeployment({ namespace: monitoringNamespace })).items;
    expect(deployments.map((d) => d.metadata?.name).sort()).to.deep.equal([`${release}-grafana`, `${release}-kube-state-metrics`, `${release}-operator`]);
    for (const deployment of deployments) {
      expect(deployment.status?.readyReplicas, `${deployment.metadata?.name} ready`).to.equal(1);
      for (const container of [...(deployment.spec?.template.spec?.initContainers ?? []), ...(deployment.spec?.template.spec?.containers ?? [])]) {
        expect(container.image?.startsWith(`${cluster.registry}/`), `${deployment.metadata?.name}/${container.name} image ${container.image}`).to.equal(true);
      }
    }

    const custom = async <T>(plural: string, name: string, ns = monitoringNamespace) =>
      (await cluster.custom.getNamespacedCustomObject({ group: "monitoring.coreos.com", version: "v1", namespace: ns, plural, name })) as T;
    const prometheus = await custom<{ spec: Record<string, Selector | string> }>("prometheuses", `${release}-prometheus`);
    const alertmanager = await custom<{ spec: { image: string; secrets?: string[] } }>("alertmanagers", `${release}-alertmanager`);
    expect(prometheus.spec.image).to.equal(`${cluster.registry}/prometheus/prometheus:${pinnedVersions().PROMETHEUS_VERSION}-distroless`);
    expect(alertmanager.spec.image).to.equal(`${cluster.registry}/prometheus/alertmanager:${pinnedVersions().ALERTMANAGER_VERSION}`);
    // Our ServiceMonitor and PrometheusRule, in the app's namespace, with the app's labels.
    const monitor = await custom<{ metadata: { labels: Record<string, string> } }>("servicemonitors", "hit-counter", namespace);
    const rules = await custom<{ metadata: { labels: Record<string, string> } }>("prometheusrules", "hit-counter", namespace);
    const ns = await cluster.core.readNamespace({ name: namespace });
    for (const [selector, labels] of [
      ["serviceMonitorSelector", monitor.metadata.labels],
      ["serviceMonitorNamespaceSelector", ns.metadata?.labels ?? {}],
      ["ruleSelector", rules.metadata.labels],
      ["ruleNamespaceSelector", ns.metadata?.labels ?? {}],
    ] as const) {
      expect(selects(prometheus.spec[selector] as Selector | undefined, labels), `Prometheus ${selector} ${JSON.stringify(prometheus.spec[selector])}`).to.equal(true);
    }

    // Grafana: its dashboard sidecar looks for our ConfigMap's label where it is, and it logs in with our Secret's keys.
    const grafana = deployments.find((d) => d.metadata?.name === `${release}-grafana`)?.spec?.template.spec;
    const env = (container: string) => Object.fromEntries((grafana?.containers.find((c) => c.name === container)?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]));
    const sidecar = env("grafana-sc-dashboard");
    const dashboard = await cluster.core.readNamespacedConfigMap({ name: `hit-counter-${namespace}`, namespace: monitoringNamespace });
    expect(dashboard.metadata?.labels?.[sidecar.LABEL as string]).to.equal(sidecar.LABEL_VALUE);
    expect(["ALL", monitoringNamespace]).to.include(sidecar.NAMESPACE ?? monitoringNamespace);
    const adminSecret = await cluster.core.readNamespacedSecret({ name: "grafana-admin", namespace: monitoringNamespace });
    const login = env("grafana");
    expect([login.GF_SECURITY_ADMIN_USER, login.GF_SECURITY_ADMIN_PASSWORD]).to.deep.equal([
      { name: "grafana-admin", key: "admin-user" },
      { name: "grafana-admin", key: "admin-password" },
    ]);
    expect(Object.keys(adminSecret.data ?? {}).sort()).to.deep.equal(["admin-password", "admin-user"]);

    // The password is in the cluster's Secret, and nowhere in `pulumi stack export` in plain text;
    // with --show-secrets it is, so the check reads the right state.
    const password = Buffer.from(adminSecret.data?.["admin-password"] ?? "", "base64").toString();
    const cli = project.cli();
    await cli.run("login", `file://${project.state}`);
    const exported = await cli.run("stack", "export", "--stack", stack.name);
    expect(exported.stdout.includes(password), "Grafana's password in plain text in `pulumi stack export`").to.equal(false);
    expect((await cli.run("stack", "export", "--stack", stack.name, "--show-secrets")).stdout).to.include(password);
  });

  it("scales out when the pods' CPU use rises above target, within its bounds; the stress tool's watcher sees it", async function () {
    const seen: HpaSnapshot[] = [];
    const watcher = await HpaWatcher.connect(cluster.kubeconfig, namespace, "hit-counter", (s) => seen.push(s), () => undefined, 1000);
    watcher.start();
    try {
      // 400m of a 100m request is 400 % of the 50 % target: the HPA wants 8 and may have 4.
      await annotateBackendPods("400m");
      const replicas = await eventually("the HPA to scale the Deployment to maxReplicas", async () => {
        const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
        return deployment.spec?.replicas === 4 ? deployment.spec.replicas : undefined;
      });
      expect(replicas).to.equal(4);
      const hpa = await cluster.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "hit-counter", namespace });
      expect(hpa.status?.desiredReplicas).to.equal(4);
      await eventually("the watcher to see 4 ready pods", async () => (seen.at(-1)?.ready.length === 4 ? true : undefined), { timeoutMs: 30_000 });
    } finally {
      await watcher.stop();
    }
    // The series shows the scale-out: one replica, then the HPA asking for four. (A fresh HPA
    // reports no status at all until its first sync, hence "first with a status".)
    const first = seen.findIndex((s) => s.current > 0);
    expect(seen[first]).to.include({ current: 1, cpuTarget: 50 });
    expect(seen.slice(first).some((s) => s.desired === 4 && (s.cpu ?? 0) > 50)).to.equal(true);
  });

  it("a second up changes nothing, and leaves the HPA's replica count alone", async function () {
    const plan = planRecorder();
    const result = await stack.up({ onEvent: plan.onEvent });
    expect(plan.changed()).to.deep.equal([]);
    expect(Object.keys(result.summary.resourceChanges ?? {})).to.deep.equal(["same"]);
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(deployment.spec?.replicas).to.equal(4);
  });

  it("scales back in after the stabilisation window once the load is gone", async function () {
    await annotateBackendPods(null);
    await eventually("the HPA to scale the Deployment back to minReplicas", async () => {
      const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
      return deployment.spec?.replicas === 1 ? true : undefined;
    }, { timeoutMs: 300_000 });
  });

  it("a config change updates only what it should", async function () {
    config = { ...config, maxReplicas: 5, cpuLimit: "300m" };
    await project.configure(stack, config);
    const plan = planRecorder();
    await stack.up({ onEvent: plan.onEvent });
    expect(plan.changed()).to.deep.equal([
      "update kubernetes:apps/v1:Deployment hit-counter",
      "update kubernetes:autoscaling/v2:HorizontalPodAutoscaler hit-counter",
    ]);
    const hpa = await cluster.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "hit-counter", namespace });
    expect(hpa.spec?.maxReplicas).to.equal(5);
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(deployment.spec?.template.spec?.containers[0].resources?.limits?.cpu).to.equal("300m");
  });

  it("destroy leaves no object of ours behind but the chart's CRDs, as Helm does, and up works again after it", async function () {
    await stack.destroy();
    expect(await cluster.namespaceExists(namespace)).to.equal(false);
    expect(await cluster.namespaceExists(monitoringNamespace)).to.equal(false);
    // Cluster-wide objects of the release are gone; Helm never deletes what it installed from crds/.
    const released = `app.kubernetes.io/instance=${release}`;
    const roles = await cluster.rbac.listClusterRole({ labelSelector: released });
    expect(roles.items.map((r) => r.metadata?.name)).to.deep.equal([]);
    const { items: crds } = await cluster.apiExtensions.listCustomResourceDefinition();
    expect(crds.filter((crd) => crd.spec.group === "monitoring.coreos.com")).to.have.lengthOf(10);
    const up = await stack.up();
    expect(up.summary.result).to.equal("succeeded");
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(deployment.status?.readyReplicas).to.equal(1);
    await stack.destroy();
    expect(await cluster.namespaceExists(namespace)).to.equal(false);
  });

  /** Whether a label selector (a missing one selects nothing, an empty one everything) selects these labels; of expressions, `In` only. */
  function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
    if (!selector) return false;
    const expressionsHold = (selector.matchExpressions ?? []).every((e) => e.operator === "In" && e.values.includes(labels[e.key]));
    return expressionsHold && Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  }

  /** Sets (or with null removes) the CPU use kwok simulates for each backend pod, which metrics-server reports. */
  async function annotateBackendPods(cpu: string | null): Promise<void> {
    const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: backendSelector });
    for (const pod of pods.items) {
      await cluster.core.patchNamespacedPod(
        { name: pod.metadata?.name ?? "", namespace, body: { metadata: { annotations: { [kwokCpuUsage]: cpu } } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    }
  }
});
