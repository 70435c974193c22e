// Day two on one cluster, through Automation API inline programs on the local kwok cluster: a dev-like
// and a prod-like stack side by side, each with its own kube-prometheus-stack; a chart upgrade across
// a major as a user makes it (chartVersion 87.21.0 -> 88.5.3); `pulumi refresh` then a preview with no
// changes; the HPA switched off and on; prod's protected Redis volume; a third stack that uses the
// first one's release instead of installing its own; destroying one stack leaves the others alone.
// Each `it` is one step, in order (--bail).
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { eventually, LocalCluster, pulumiManagers, replicaManagers } from "../support/local-cluster";
import { E2eProject, type StackConfig } from "../support/e2e-project";

const dev = { namespace: "e2e-dev", monitoring: "e2e-dev-monitoring", release: "e2e-dev-kps" };
const prod = { namespace: "e2e-prod", monitoring: "e2e-prod-monitoring", release: "e2e-prod-kps" };
const tenant = { namespace: "e2e-tenant" };
const storageClass = "e2e-local";
const redisVolume = "e2e-redis-data";

describe("end to end: day two on one cluster (two stacks, chart upgrade, refresh, HPA toggle, protected data)", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let base: StackConfig;
  let devConfig: StackConfig;
  let prodConfig: StackConfig;
  const stacks: Stack[] = [];

  async function replicaOwners(namespace: string): Promise<string[]> {
    return replicaManagers(await deploymentOf("hit-counter", namespace));
  }

  async function deploymentOf(name: string, namespace: string) {
    return cluster.apps.readNamespacedDeployment({ name, namespace });
  }

  /** The Helm release's deployed revision as Helm stores it: `sh.helm.release.v1.<name>.v<n>` Secrets. */
  async function releaseRevisions(release: string, namespace: string): Promise<{ revision: number; status: string }[]> {
    const { items } = await cluster.core.listNamespacedSecret({ namespace, labelSelector: `owner=helm,name=${release}` });
    return items.map((s) => ({ revision: Number(s.metadata?.labels?.version), status: s.metadata?.labels?.status ?? "" })).sort((a, b) => a.revision - b.revision);
  }

  before(async function () {
    cluster = new LocalCluster();
    project = E2eProject.create(cluster.kubeconfig);
    base = {
      kubeContext: cluster.context,
      image: await cluster.publishService(path.join(project.dir, "service"), "e2e"),
      serviceType: "ClusterIP",
      monitoringEnabled: true,
      chartRepository: cluster.chartRepository,
      monitoringImageRegistry: cluster.registry,
      // kwok's fake pods answer no webhook (test/real runs it).
      monitoringAdmissionWebhooks: false,
      grafanaEnabled: false,
    };
    // A volume for the prod-like Redis: kwok has no provisioner, so a StorageClass without one and a
    // PersistentVolume the claim binds to, as a cluster's static provisioning would have it.
    await cluster.storage.createStorageClass({ body: { metadata: { name: storageClass }, provisioner: "kubernetes.io/no-provisioner", volumeBindingMode: "Immediate" } });
    await cluster.core.createPersistentVolume({
      body: {
        metadata: { name: redisVolume },
        spec: { storageClassName: storageClass, capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/e2e-redis-data" }, persistentVolumeReclaimPolicy: "Retain" },
      },
    });
  });

  after(async function () {
    for (const stack of stacks.reverse()) {
      const failure = await stack.destroy({ excludeProtected: true }).then(() => undefined, (error: Error) => error.message);
      if (failure) console.log(`      destroy of ${stack.name} failed: ${failure.split("\n").slice(-12).join("\n")}`);
    }
    // What a failed step left (the protected namespace among it), so the next suite starts clean.
    for (const name of [dev.namespace, dev.monitoring, prod.namespace, prod.monitoring, tenant.namespace]) {
      await cluster.core.deleteNamespace({ name }).catch(() => undefined);
    }
    for (const release of [dev.release, prod.release]) {
      const labelSelector = `app.kubernetes.io/instance=${release}`;
      for (const role of (await cluster.rbac.listClusterRole({ labelSelector })).items) await cluster.rbac.deleteClusterRole({ name: role.metadata?.name ?? "" });
      for (const binding of (await cluster.rbac.listClusterRoleBinding({ labelSelector })).items) await cluster.rbac.deleteClusterRoleBinding({ name: binding.metadata?.name ?? "" });
    }
    // kwok fakes the chart's CRD Job, so the CRDs are still the ones the 87.21.0 install brought: gone,
    // the next install of the pinned chart brings its own (test/real checks the Job for real).
    const { items: crds } = await cluster.apiExtensions.listCustomResourceDefinition();
    for (const crd of crds.filter((c) => c.spec.group === "monitoring.coreos.com")) await cluster.apiExtensions.deleteCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
    await cluster.core.deletePersistentVolume({ name: redisVolume }).catch(() => undefined);
    await cluster.storage.deleteStorageClass({ name: storageClass }).catch(() => undefined);
    project?.remove();
  });

  it("runs a dev-like stack on the previous chart major (87.21.0)", async function () {
    devConfig = { ...base, namespace: dev.namespace, minReplicas: 2, chartVersion: "87.21.0" };
    const stack = await project.stack("day2-dev", devConfig);
    stacks.push(stack);
    await stack.up();
    const operator = await deploymentOf(`${dev.release}-operator`, dev.monitoring);
    expect(operator.metadata?.labels?.chart).to.equal("kube-prometheus-stack-87.21.0");
    expect(await releaseRevisions(dev.release, dev.monitoring)).to.deep.equal([{ revision: 1, status: "deployed" }]);
  });

  it("upgrades it to 88.5.3 with `pulumi up`: the release is deployed at 88.5.3 as its next revision", async function () {
    devConfig = { ...devConfig, chartVersion: "88.5.3" };
    const stack = stacks[0];
    await project.configure(stack, devConfig);
    await stack.up();
    const operator = await deploymentOf(`${dev.release}-operator`, dev.monitoring);
    expect(operator.metadata?.labels?.chart).to.equal("kube-prometheus-stack-88.5.3");
    expect(await releaseRevisions(dev.release, dev.monitoring)).to.deep.equal([
      { revision: 1, status: "superseded" },
      { revision: 2, status: "deployed" },
    ]);
  });

  it("after `pulumi refresh`, a preview shows no changes", async function () {
    const stack = stacks[0];
    await stack.refresh();
    const preview = await stack.preview({ expectNoChanges: true });
    expect(Object.keys(preview.changeSummary)).to.deep.equal(["same"]);
  });

  it("switching the HPA off and on again leaves minReplicas pods, with no field-manager conflict", async function () {
    const stack = stacks[0];
    await project.configure(stack, { ...devConfig, cpuTargetUtilization: 0, memoryTargetUtilization: 0 });
    await stack.up();
    await expectNoHpa(dev.namespace);
    expect((await deploymentOf("hit-counter", dev.namespace)).spec?.replicas).to.equal(2);
    // Without the HPA, Pulumi's field manager (pulumi-kubernetes-<suffix>) owns the count: the check below can see it.
    expect(pulumiManagers(await replicaOwners(dev.namespace)), "Pulumi owns spec.replicas").to.have.lengthOf(1);

    await project.configure(stack, devConfig);
    await stack.up();
    const hpa = await cluster.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "hit-counter", namespace: dev.namespace });
    expect(hpa.spec?.minReplicas).to.equal(2);
    await eventually("the Deployment at minReplicas under the HPA", async () => {
      const deployment = await deploymentOf("hit-counter", dev.namespace);
      return deployment.spec?.replicas === 2 && deployment.status?.readyReplicas === 2 ? true : undefined;
    });
    expect(pulumiManagers(await replicaOwners(dev.namespace)), "Pulumi no longer owns spec.replicas").to.deep.equal([]);
    await stack.preview({ expectNoChanges: true });
  });

  it("runs a prod-like stack beside it, with its own release, persistent Redis and protected data", async function () {
    prodConfig = { ...base, namespace: prod.namespace, minReplicas: 2, redisPersistence: true, protectRedisData: true, redisStorageClass: storageClass, monitoringControlPlane: false };
    const stack = await project.stack("day2-prod", prodConfig);
    stacks.push(stack);
    await stack.up();
    for (const [own, other] of [
      [dev, prod],
      [prod, dev],
    ]) {
      const operator = await deploymentOf(`${own.release}-operator`, own.monitoring);
      const args = operator.spec?.template.spec?.containers[0].args ?? [];
      expect(args, `${own.release} operator`).to.include.members([`--prometheus-instance-namespaces=${own.monitoring}`, `--alertmanager-instance-namespaces=${own.monitoring}`]);
      const prometheus = (await cluster.custom.getNamespacedCustomObject({
        group: "monitoring.coreos.com", version: "v1", namespace: own.monitoring, plural: "prometheuses", name: `${own.release}-prometheus`,
      })) as { spec: { serviceMonitorNamespaceSelector: { matchExpressions: { values: string[] }[] } } };
      const watched = prometheus.spec.serviceMonitorNamespaceSelector.matchExpressions[0].values;
      expect(watched, `${own.release} Prometheus`).to.deep.equal([own.namespace, own.monitoring]).and.not.include(other.namespace);
    }
    const claim = await cluster.core.readNamespacedPersistentVolumeClaim({ name: "data-redis-0", namespace: prod.namespace });
    expect(claim.spec?.volumeName).to.equal(redisVolume);
  });

  it("a third stack uses the dev stack's release instead of its own: only its monitor, rules and dashboard, labelled for that release", async function () {
    const stack = await project.stack("day2-tenant", {
      ...base,
      namespace: tenant.namespace,
      monitoringExistingRelease: dev.release,
      monitoringNamespace: dev.monitoring,
    });
    stacks.push(stack);
    const before = await releaseRevisions(dev.release, dev.monitoring);
    await stack.up();
    const monitor = (await cluster.custom.getNamespacedCustomObject({
      group: "monitoring.coreos.com", version: "v1", namespace: tenant.namespace, plural: "servicemonitors", name: "hit-counter",
    })) as { metadata: { labels: Record<string, string> } };
    expect(monitor.metadata.labels.release).to.equal(dev.release);
    const dashboard = await cluster.core.readNamespacedConfigMap({ name: `hit-counter-${tenant.namespace}`, namespace: dev.monitoring });
    expect(dashboard.metadata?.labels).to.include({ grafana_dashboard: "1" });
    expect(await cluster.namespaceExists(`${tenant.namespace}-monitoring`)).to.equal(false);
    expect(await releaseRevisions(dev.release, dev.monitoring)).to.deep.equal(before);
    await stack.destroy();
    stacks.pop();
    expect(await releaseRevisions(dev.release, dev.monitoring)).to.deep.equal(before);
    // Its dashboard went with it; the dev stack's, beside it in the same namespace, stayed.
    const dashboards = await cluster.core.listNamespacedConfigMap({ namespace: dev.monitoring, labelSelector: "grafana_dashboard=1" });
    expect(dashboards.items.map((d) => d.metadata?.name).filter((name) => name?.startsWith("hit-counter-"))).to.deep.equal([`hit-counter-${dev.namespace}`]);
  });

  it("replacing prod's Redis StatefulSet (a new volume size, which Kubernetes cannot change in place) reattaches the same claim", async function () {
    const stack = stacks[1];
    const claim = await cluster.core.readNamespacedPersistentVolumeClaim({ name: "data-redis-0", namespace: prod.namespace });
    const before = await cluster.apps.readNamespacedStatefulSet({ name: "redis", namespace: prod.namespace });
    const steps: string[] = [];
    await project.configure(stack, { ...prodConfig, redisStorageSize: "2Gi" });
    await stack.up({ onEvent: (event) => event.resourcePreEvent && event.resourcePreEvent.metadata.op !== "same" && steps.push(`${event.resourcePreEvent.metadata.op} ${event.resourcePreEvent.metadata.type}`) });
    expect(steps).to.include("replace kubernetes:apps/v1:StatefulSet");
    const after = await cluster.apps.readNamespacedStatefulSet({ name: "redis", namespace: prod.namespace });
    expect(after.metadata?.uid).not.to.equal(before.metadata?.uid);
    const claimAfter = await cluster.core.readNamespacedPersistentVolumeClaim({ name: "data-redis-0", namespace: prod.namespace });
    expect([claimAfter.metadata?.uid, claimAfter.spec?.volumeName]).to.deep.equal([claim.metadata?.uid, redisVolume]);
    await eventually("the new Redis pod Ready on the same claim", async () => {
      const pod = await cluster.core.readNamespacedPod({ name: "redis-0", namespace: prod.namespace });
      const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      return ready && pod.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "data-redis-0") ? true : undefined;
    });
    prodConfig = { ...prodConfig, redisStorageSize: "2Gi" };
  });

  it("`pulumi destroy` of prod stops at the protected namespace, and the Redis volume's claim survives", async function () {
    const stack = stacks[1];
    const claim = await cluster.core.readNamespacedPersistentVolumeClaim({ name: "data-redis-0", namespace: prod.namespace });
    const failure = await stack.destroy().then(() => "", (error: Error) => error.message);
    expect(failure).to.match(/protected/);
    const after = await cluster.core.readNamespacedPersistentVolumeClaim({ name: "data-redis-0", namespace: prod.namespace });
    expect(after.metadata?.uid).to.equal(claim.metadata?.uid);
  });

  it("destroying prod deliberately (protectRedisData false, up, destroy) leaves the dev stack's app and monitoring untouched", async function () {
    const devOperator = await deploymentOf(`${dev.release}-operator`, dev.monitoring);
    const devBackend = await deploymentOf("hit-counter", dev.namespace);
    const stack = stacks[1];
    await project.configure(stack, { ...prodConfig, protectRedisData: false });
    await stack.up();
    await stack.destroy();
    stacks.pop();
    expect(await cluster.namespaceExists(prod.namespace)).to.equal(false);
    expect(await cluster.namespaceExists(prod.monitoring)).to.equal(false);
    const operatorAfter = await deploymentOf(`${dev.release}-operator`, dev.monitoring);
    const backendAfter = await deploymentOf("hit-counter", dev.namespace);
    expect([operatorAfter.metadata?.uid, operatorAfter.metadata?.generation]).to.deep.equal([devOperator.metadata?.uid, devOperator.metadata?.generation]);
    expect([backendAfter.metadata?.uid, backendAfter.status?.readyReplicas]).to.deep.equal([devBackend.metadata?.uid, 2]);
    expect(await releaseRevisions(dev.release, dev.monitoring)).to.deep.equal([
      { revision: 1, status: "superseded" },
      { revision: 2, status: "deployed" },
    ]);
  });

  async function expectNoHpa(namespace: string): Promise<void> {
    const { items } = await cluster.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace });
    expect(items).to.deep.equal([]);
  }
});
