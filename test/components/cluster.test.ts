// The stack's cluster under mocks: the context it names, what it checks there before anything is
// created (metrics-server, a StorageClass, the nodes' platform), the registry login its pods pull
// with, and monitoring through a release that is already in the cluster.
import { expect } from "chai";
import { completeCluster, declaredOfType, declaredResource, isSecretInput, rejectedConfig, runProgram } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";

const provider = "pulumi:providers:kubernetes";

describe("the stack's cluster (kubeContext)", () => {
  it("is the context the stack file names, inspected before anything is declared, and the one provider of every Kubernetes resource", async () => {
    const run = await runProgram("prod", { config: { registryPassword: "t" }, secretKeys: ["registryPassword"] });
    expect(run.contexts).to.deep.equal(["prod"]);
    expect(declaredResource(run, provider, "cluster")).to.deep.include({ context: "prod" });
    const kubernetes = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(kubernetes.length).to.be.greaterThan(10);
    expect(kubernetes.filter((r) => !r.provider?.includes("::cluster::")).map((r) => `${r.type} ${r.name}`)).to.deep.equal([]);
  });

  it("stops the program, naming the key, when the kubeconfig has no such context", async () => {
    const { message, declared } = await rejectedConfig("dev", {
      inspect: async (context) => {
        throw new Error(`Invalid config hitcounter:kubeContext: expected a context of your kubeconfig (kind-kind), got "${context}"`);
      },
    });
    expect(message).to.equal('Invalid config hitcounter:kubeContext: expected a context of your kubeconfig (kind-kind), got "minikube"');
    expect(declared).to.equal(0);
  });
});

describe("platform checks before anything is created", () => {
  it("warns that the HPA cannot scale when the cluster serves no metrics API, and says how to install metrics-server", async () => {
    const run = await runProgram("dev", { cluster: { ...completeCluster, servesMetrics: false } });
    expect(run.warnings).to.have.lengthOf(1);
    expect(run.warnings[0]).to.match(/^The cluster serves no metrics\.k8s\.io API, so the HorizontalPodAutoscaler cannot read CPU or memory and will never scale\./);
    expect(run.warnings[0]).to.contain("metrics-server/releases/latest/download/components.yaml");
    const without = await runProgram("dev", { cluster: { ...completeCluster, servesMetrics: false }, config: { cpuTargetUtilization: 0, memoryTargetUtilization: 0 } });
    expect(without.warnings, "no HPA, nothing to warn about").to.deep.equal([]);
  });

  it("refuses a persistent Redis on a cluster without a default StorageClass, or with a class it does not have", async () => {
    const prod = { config: { registryPassword: "t" }, secretKeys: ["registryPassword"] };
    const noDefault = await rejectedConfig("prod", { ...prod, cluster: { ...completeCluster, storageClasses: [{ name: "gp2", isDefault: false }] } });
    expect(noDefault).to.deep.equal({
      message: 'Invalid config hitcounter:redisStorageClass: expected a StorageClass (gp2) because the cluster has no default one and the Redis volume would stay Pending, got ""',
      declared: 0,
    });
    const unknown = await rejectedConfig("prod", { ...prod, config: { ...prod.config, redisStorageClass: "gp3" } });
    expect(unknown.message).to.equal('Invalid config hitcounter:redisStorageClass: expected a StorageClass of the cluster (standard), got "gp3"');
    const named = await runProgram("prod", { ...prod, config: { ...prod.config, redisStorageClass: "gp2" }, cluster: { ...completeCluster, storageClasses: [{ name: "gp2", isDefault: false }] } });
    expect(declaredResource(named, k8s.statefulSet, "redis").spec.volumeClaimTemplates[0].spec.storageClassName).to.equal("gp2");
    const ephemeral = await runProgram("dev", { cluster: { ...completeCluster, storageClasses: [] } });
    expect(ephemeral.warnings).to.deep.equal([]);
  });

  it("builds the image for the nodes' platform unless imagePlatform says otherwise, and asks for it when nodes differ", async () => {
    const arm = await runProgram("dev", { cluster: { ...completeCluster, nodePlatforms: ["linux/arm64"] } });
    expect(declaredResource(arm, "docker:index/image:Image", "hit-counter").build.platform).to.equal("linux/arm64");
    const chosen = await runProgram("dev", { config: { imagePlatform: "linux/amd64" }, cluster: { ...completeCluster, nodePlatforms: ["linux/arm64"] } });
    expect(declaredResource(chosen, "docker:index/image:Image", "hit-counter").build.platform).to.equal("linux/amd64");
    const mixed = await rejectedConfig("dev", { cluster: { ...completeCluster, nodePlatforms: ["linux/amd64", "linux/arm64"] } });
    expect(mixed.message).to.equal('Invalid config hitcounter:imagePlatform: expected one os/arch for nodes of several (linux/amd64, linux/arm64), got ""');
    const unreadable = await runProgram("dev", { cluster: { ...completeCluster, nodePlatforms: undefined } });
    expect(declaredResource(unreadable, "docker:index/image:Image", "hit-counter").build.platform).to.equal("linux/amd64");
    expect(unreadable.warnings).to.deep.equal(["The cluster's nodes could not be read; the image is built for linux/amd64. Set hitcounter:imagePlatform to choose."]);
  });
});

describe("a registry that needs a login (registryUsername, registryPassword)", () => {
  it("becomes a dockerconfigjson Secret, kept secret, that the backend pods pull with", async () => {
    const run = await runProgram("prod", { config: { registryPassword: "ghp_token" }, secretKeys: ["registryPassword"] });
    const secret = run.resources.find((r) => r.type === k8s.secret && r.name === "registry-pull");
    expect(isSecretInput(secret?.inputs.stringData), "the Docker config is a Pulumi secret").to.equal(true);
    const manifest = declaredResource(run, k8s.secret, "registry-pull");
    expect(manifest).to.deep.include({ type: "kubernetes.io/dockerconfigjson", metadata: { name: "registry-pull", namespace: "hitcounter" } });
    expect(JSON.parse(manifest.stringData[".dockerconfigjson"])).to.deep.equal({
      auths: { "ghcr.io": { username: "example-org-ci", password: "ghp_token", auth: Buffer.from("example-org-ci:ghp_token").toString("base64") } },
    });
    const backend = declaredResource(run, k8s.deployment, "hit-counter");
    expect(backend.spec.template.spec.imagePullSecrets).to.deep.equal([{ name: "registry-pull" }]);
  });

  it("also for a prebuilt image, by the image's registry; a registry without a login gets no Secret", async () => {
    const digest = `sha256:${"c".repeat(64)}`;
    const run = await runProgram("dev", {
      config: { image: `registry.example.com:5443/team/hit-counter@${digest}`, registryUsername: "puller", registryPassword: "p" },
      secretKeys: ["registryPassword"],
    });
    expect(Object.keys(JSON.parse(declaredResource(run, k8s.secret, "registry-pull").stringData[".dockerconfigjson"]).auths)).to.deep.equal(["registry.example.com:5443"]);
    const dev = await runProgram("dev");
    expect(declaredOfType(dev, k8s.secret).map((s) => s.metadata.name)).not.to.include("registry-pull");
    expect(declaredResource(dev, k8s.deployment, "hit-counter").spec.template.spec).not.to.have.property("imagePullSecrets");
  });
});

describe("monitoring through an existing kube-prometheus-stack (monitoringExistingRelease)", () => {
  it("installs nothing of the chart and labels our ServiceMonitor and rules for that release's Prometheus", async () => {
    const run = await runProgram("dev", { config: { monitoringExistingRelease: "platform", monitoringNamespace: "observability" } });
    expect(declaredOfType(run, k8s.release)).to.deep.equal([]);
    expect(declaredOfType(run, k8s.namespace).map((n) => n.metadata.name)).to.deep.equal(["hitcounter-dev"]);
    expect(run.resources.filter((r) => r.name === "grafana-admin")).to.deep.equal([]);
    for (const type of [k8s.serviceMonitor, k8s.prometheusRule]) {
      const object = declaredResource(run, type, "hit-counter");
      expect(object.metadata, type).to.deep.include({ namespace: "hitcounter-dev" });
      expect(object.metadata.labels, type).to.include({ release: "platform", "app.kubernetes.io/name": "hit-counter" });
    }
    // The monitor still selects the Service by the Service's own labels.
    expect(declaredResource(run, k8s.serviceMonitor, "hit-counter").spec.selector.matchLabels).not.to.have.property("release");
    expect(declaredResource(run, k8s.configMap, "hit-counter-dashboard").metadata).to.deep.include({ name: "hit-counter-hitcounter-dev", namespace: "observability", labels: { grafana_dashboard: "1" } });
    expect(run.outputs.grafanaPortForward).to.equal("kubectl -n observability port-forward svc/platform-grafana 3000:80");
  });
});
