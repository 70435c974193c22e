// Each policy of the pack (policy/), passing and failing, on resources made to break one rule.
import { expect } from "chai";
import { helmReleasePinned, helmValuesWithoutCredentials } from "../../policy/helm-releases";
import { hpaOwnsReplicas } from "../../policy/hpa-owns-replicas";
import { imagesPinned } from "../../policy/images-pinned";
import { networkPolicyPerNamespace } from "../../policy/network-policies";
import { createPolicies } from "../../policy/policies";
import { requestsAndLimits } from "../../policy/requests-and-limits";
import { restrictedPods } from "../../policy/restricted-pods";
import { violations } from "../support/policy-check";
import { resourceType as k8s } from "../support/resource-types";
import { container, deployment, networkPolicy, release } from "./fixtures";

describe("policy pack: each rule", () => {
  it("passes a compliant workload, its NetworkPolicy and a pinned release, under every policy", async () => {
    expect(await violations(createPolicies(), [deployment("web"), networkPolicy, release({})])).to.deep.equal([]);
  });

  it("images-pinned: refuses floating and missing tags, in pods and in Helm values; accepts digests and x.y.z tags", async () => {
    const pod = { initContainers: [container({ name: "init", image: "busybox" })], containers: [container({ image: "redis:7.4.2-alpine" }), container({ name: "side", image: "redis:latest" })] };
    const values = { grafana: { image: { tag: "main" } }, crds: { upgradeJob: { image: { busybox: { tag: "1.37.0" }, kubectl: { tag: "" } } } } };
    expect(await violations([imagesPinned], [deployment("web", pod), release({ values })])).to.deep.equal([
      'images-pinned: web: container "init" runs image "busybox": use a digest (repository@sha256:...) or a tag naming an x.y.z release',
      'images-pinned: web: container "side" runs image "redis:latest": use a digest (repository@sha256:...) or a tag naming an x.y.z release',
      'images-pinned: kps: Helm value grafana.image.tag is "main": use a digest (repository@sha256:...) or a tag naming an x.y.z release',
    ]);
  });

  it("requests-and-limits: names each missing request and limit", async () => {
    const pod = { containers: [container({ resources: { requests: { cpu: "100m" } } })] };
    expect(await violations([requestsAndLimits], [deployment("web", pod)])).to.deep.equal([
      'requests-and-limits: web: container "app" sets no resources.requests.memory, resources.limits.cpu, resources.limits.memory',
    ]);
  });

  it("pods-restricted: names every fault of the pod and of each container; a container may inherit the pod's settings", async () => {
    const pod = {
      hostNetwork: true,
      volumes: [{ name: "data", hostPath: { path: "/var/lib" } }, { name: "config", configMap: { name: "c" } }],
      securityContext: { runAsUser: 0 },
      containers: [
        container({ securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN", "NET_BIND_SERVICE"] } }, ports: [{ containerPort: 80, hostPort: 80 }] }),
      ],
    };
    const inheriting = { containers: [container({ securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } })] };
    expect(await violations([restrictedPods], [deployment("web", pod), deployment("inherits", inheriting)])).to.deep.equal([
      'pods-restricted: web: the pod breaks Pod Security restricted: hostNetwork is true; volume "data" is hostPath',
      'pods-restricted: web: container "app" breaks Pod Security restricted: privileged is true; allowPrivilegeEscalation is not false; capabilities.drop lacks ALL; capabilities.add has NET_ADMIN; runAsNonRoot is not true; runAsUser is 0; seccompProfile is unset, not RuntimeDefault or Localhost; a hostPort is set',
    ]);
  });

  it("hpa-owns-replicas: refuses spec.replicas only on the workload an HPA in its namespace scales, whichever comes first", async function () {
    const hpa = (target: string, namespace = "apps") => ({
      type: k8s.hpa,
      name: `hpa-${target}-${namespace}`,
      props: { metadata: { name: `hpa-${target}`, namespace }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target } } },
    });
    const resources = [deployment("web", {}, { replicas: 2 }), deployment("worker", {}, { replicas: 3 }), deployment("free"), hpa("web"), hpa("worker", "other"), hpa("free"), hpa("api"), deployment("api", {}, { replicas: 1 })];
    expect(await violations([hpaOwnsReplicas()], resources)).to.deep.equal([
      'hpa-owns-replicas: hpa-web-apps: Deployment "web" sets spec.replicas (2) while HorizontalPodAutoscaler "hpa-web" scales it',
      'hpa-owns-replicas: api: Deployment "api" sets spec.replicas (1) while HorizontalPodAutoscaler "hpa-api" scales it',
    ]);
  });

  it("helm-release-pinned: refuses a missing or ranged version from a repository; a local chart is pinned by its files", async () => {
    const releases = [release({ version: undefined }), release({ version: "^88.0.0" }), release({ chart: "../charts/kube-prometheus-stack", version: undefined, repositoryOpts: undefined })];
    expect(await violations([helmReleasePinned], releases)).to.deep.equal([
      'helm-release-pinned: kps: chart "kube-prometheus-stack" is at version "", not an exact x.y.z',
      'helm-release-pinned: kps: chart "kube-prometheus-stack" is at version "^88.0.0", not an exact x.y.z',
    ]);
  });

  it("helm-values-without-credentials: refuses credentials by key or by form, never shows them; Secret references pass", async () => {
    const values = {
      grafana: { adminPassword: "hunter2", admin: { existingSecret: "grafana-admin", passwordKey: "admin-password" } },
      alertmanager: { config: { global: { slack_api_url: "https://hooks.example/T0" }, receivers: [{ name: "r", webhook_configs: [{ url: "https://bot:s3cret@alerts.example/hook" }] }] } },
    };
    const found = await violations([helmValuesWithoutCredentials], [release({ values })]);
    expect(found).to.deep.equal([
      "helm-values-without-credentials: kps: Helm value grafana.adminPassword holds a credential (not shown): put it in a Kubernetes Secret the chart reads",
      "helm-values-without-credentials: kps: Helm value alertmanager.config.global.slack_api_url holds a credential (not shown): put it in a Kubernetes Secret the chart reads",
      "helm-values-without-credentials: kps: Helm value alertmanager.config.receivers[0].webhook_configs[0].url holds a credential (not shown): put it in a Kubernetes Secret the chart reads",
    ]);
    expect(found.join("\n")).not.to.match(/hunter2|s3cret/);
  });

  it("network-policy-per-namespace: advises on each workload whose namespace has no NetworkPolicy", async () => {
    const elsewhere = { ...deployment("batch"), props: { ...deployment("batch").props, metadata: { name: "batch", namespace: "jobs" } } };
    expect(await violations([networkPolicyPerNamespace], [deployment("web"), networkPolicy, elsewhere])).to.deep.equal([
      'network-policy-per-namespace: batch: namespace "jobs" runs Deployment "batch" and has no NetworkPolicy',
    ]);
    expect(networkPolicyPerNamespace.enforcementLevel).to.equal("advisory");
    expect(createPolicies().filter((policy) => policy.enforcementLevel === "mandatory").map((policy) => policy.name)).to.deep.equal([
      "images-pinned",
      "requests-and-limits",
      "pods-restricted",
      "hpa-owns-replicas",
      "helm-release-pinned",
      "helm-values-without-credentials",
    ]);
  });
});
