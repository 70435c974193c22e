// Each stack file run through the real program under Pulumi mocks: the graph a user would get.
import { expect } from "chai";
import { declaredOfType, declaredResource, type Manifest, isSecretInput, type ProgramRun, runProgram } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";


const backendLabels = { "app.kubernetes.io/name": "hit-counter", "app.kubernetes.io/component": "backend", "app.kubernetes.io/part-of": "hit-counter" };
const redisLabels = { "app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "store", "app.kubernetes.io/part-of": "hit-counter" };

// What each stack file promises, written out as a user reads it.
const stacks = {
  dev: {
    options: {},
    namespace: "hitcounter-dev",
    image: /^localhost:5000\/hit-counter@sha256:[0-9a-f]{64}$/,
    serviceType: "NodePort",
    replicas: { min: 1, max: 10 },
    scaleDownWindow: 60,
    backendResources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    redisKind: k8s.deployment,
    disruptionBudget: false,
  },
  prod: {
    options: { config: { registryPassword: "registry-token" }, secretKeys: ["registryPassword"] },
    namespace: "hitcounter",
    image: /^ghcr\.io\/example-org\/hit-counter@sha256:[0-9a-f]{64}$/,
    serviceType: "LoadBalancer",
    replicas: { min: 2, max: 10 },
    scaleDownWindow: 300,
    backendResources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    redisKind: k8s.statefulSet,
    disruptionBudget: true,
  },
};

/** Every pod template in the graph, with the workload that owns it. */
function workloads(run: ProgramRun): Manifest[] {
  return [...declaredOfType(run, k8s.deployment), ...declaredOfType(run, k8s.statefulSet)];
}

function containerPortByName(pod: Manifest, name: string): number {
  const port = pod.spec.containers.flatMap((c: Manifest) => c.ports ?? []).find((p: Manifest) => p.name === name);
  expect(port, `a container port named ${name}`).to.be.an("object");
  return port.containerPort;
}

for (const [stack, expected] of Object.entries(stacks)) {
  describe(`the ${stack} stack (Pulumi.${stack}.yaml under mocks)`, () => {
    let run: ProgramRun;
    let backend: Manifest;
    let backendService: Manifest;

    before(async () => {
      run = await runProgram(stack, expected.options);
      backend = declaredResource(run, k8s.deployment, "hit-counter");
      backendService = declaredResource(run, k8s.service, "hit-counter");
    });

    it(`puts the app in namespace ${expected.namespace}, which enforces Pod Security restricted`, () => {
      const namespace = declaredResource(run, k8s.namespace, expected.namespace);
      expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
      for (const workload of workloads(run)) expect(workload.metadata.namespace).to.equal(expected.namespace);
      expect(run.outputs.namespace).to.equal(expected.namespace);
    });

    it("gives every workload a selector that matches its own pod labels", () => {
      for (const workload of workloads(run)) {
        expect(workload.spec.template.metadata.labels).to.include(workload.spec.selector.matchLabels);
      }
      expect(backend.spec.selector.matchLabels).to.deep.equal(backendLabels);
    });

    it("sends each Service's traffic to the pods and container port that serve it", () => {
      const redis = declaredResource(run, expected.redisKind, "redis");
      for (const [service, pods] of [
        [backendService, backend.spec.template],
        [declaredResource(run, k8s.service, "redis"), redis.spec.template],
      ]) {
        expect(pods.metadata.labels).to.include(service.spec.selector);
        for (const port of service.spec.ports) containerPortByName(pods, port.targetPort);
      }
      expect(backendService.spec.type).to.equal(expected.serviceType);
      expect(backendService.spec.ports).to.deep.equal([{ name: "http", port: 80, targetPort: "http" }]);
      expect(containerPortByName(backend.spec.template, "http")).to.equal(3000);
    });

    it("probes /healthz and /readyz on the port the Service targets", () => {
      const container = backend.spec.template.spec.containers[0];
      expect(container.startupProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
      expect(container.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
      expect(container.readinessProbe.httpGet).to.deep.equal({ path: "/readyz", port: "http" });
      expect(container.env).to.deep.include({ name: "PORT", value: "3000" });
    });

    it("drains before stopping: a 5 s preStop sleep inside a 30 s grace period, and no pod lost during a rollout", () => {
      expect(backend.spec.template.spec.containers[0].lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 5 } } });
      expect(backend.spec.template.spec.terminationGracePeriodSeconds).to.equal(30);
      expect(backend.spec.strategy.rollingUpdate).to.deep.equal({ maxUnavailable: 0, maxSurge: 1 });
    });

    it(`autoscales the backend Deployment from ${expected.replicas.min} to ${expected.replicas.max} on CPU 50 % and memory 70 %`, () => {
      const hpa = declaredResource(run, k8s.hpa, "hit-counter");
      expect(hpa.spec.scaleTargetRef).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", name: backend.metadata.name });
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).to.deep.equal([expected.replicas.min, expected.replicas.max]);
      expect(hpa.spec.metrics).to.deep.equal([
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
        { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 70 } } },
      ]);
      expect(run.outputs.hpaName).to.equal(hpa.metadata.name);
    });

    it(`scales up at once and down only after a ${expected.scaleDownWindow} s window`, () => {
      const { behavior } = declaredResource(run, k8s.hpa, "hit-counter").spec;
      expect(behavior.scaleUp).to.deep.equal({
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Percent", value: 100, periodSeconds: 15 },
          { type: "Pods", value: 4, periodSeconds: 15 },
        ],
      });
      expect(behavior.scaleDown).to.deep.equal({
        stabilizationWindowSeconds: expected.scaleDownWindow,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
      });
    });

    it("leaves spec.replicas of the backend to the HPA", () => {
      expect(backend.spec).not.to.have.property("replicas");
    });

    it("gives every container CPU and memory requests and limits", () => {
      for (const workload of workloads(run)) {
        for (const container of workload.spec.template.spec.containers) {
          expect(Object.keys(container.resources.requests).sort(), container.name).to.deep.equal(["cpu", "memory"]);
          expect(Object.keys(container.resources.limits).sort(), container.name).to.deep.equal(["cpu", "memory"]);
        }
      }
      expect(backend.spec.template.spec.containers[0].resources).to.deep.equal(expected.backendResources);
    });

    it("runs every pod as Pod Security restricted demands", () => {
      for (const workload of workloads(run)) {
        const pod = workload.spec.template.spec;
        expect(pod.securityContext).to.include({ runAsNonRoot: true });
        expect(pod.securityContext.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
        for (const container of pod.containers) {
          expect(container.securityContext).to.deep.include({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
          });
        }
      }
    });

    it("keeps the Redis and Grafana passwords secret, and the backend reads Redis's from the Secret", () => {
      for (const name of ["redis", "grafana-admin"]) {
        const secret = run.resources.find((r) => r.type === k8s.secret && r.name === name);
        expect(isSecretInput(secret?.inputs.stringData), name).to.equal(true);
      }
      const redisSecret = declaredResource(run, k8s.secret, "redis");
      expect(redisSecret.stringData.password).to.equal("generated-redis-password");
      expect(redisSecret.stringData["redis.conf"]).to.contain("requirepass generated-redis-password\n");
      expect(backend.spec.template.spec.containers[0].env).to.deep.include({
        name: "REDIS_PASSWORD",
        valueFrom: { secretKeyRef: { name: redisSecret.metadata.name, key: "password" } },
      });
      expect(JSON.stringify(declaredResource(run, k8s.release, "kube-prometheus-stack").values)).not.to.contain("generated-");
    });

    it("lets only the backend pods reach Redis on 6379", () => {
      const policy = declaredResource(run, k8s.networkPolicy, "redis");
      expect(policy.spec).to.deep.equal({
        podSelector: { matchLabels: redisLabels },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: backendLabels } }], ports: [{ protocol: "TCP", port: 6379 }] }],
      });
      expect(declaredResource(run, expected.redisKind, "redis").spec.template.metadata.labels).to.deep.equal(redisLabels);
    });

    it("deploys the pushed image by digest and pins every other image to a version", () => {
      const image = backend.spec.template.spec.containers[0].image;
      expect(image).to.match(expected.image);
      expect(run.outputs.imageReference).to.equal(image);
      for (const workload of workloads(run)) {
        for (const container of workload.spec.template.spec.containers) {
          expect(container.image).to.match(/@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+[^:@/]*$/);
        }
      }
    });

    it("installs kube-prometheus-stack 88.5.3 as a Helm release whose Prometheus selects our ServiceMonitor", () => {
      const release = declaredResource(run, k8s.release, "kube-prometheus-stack");
      expect(release).to.deep.include({ chart: "kube-prometheus-stack", version: "88.5.3", namespace: "monitoring" });
      expect(release.repositoryOpts).to.deep.equal({ repo: "https://prometheus-community.github.io/helm-charts" });
      const prometheus = release.values.prometheus.prometheusSpec;
      // nil selectors that do not fall back to the chart's `release` label select every object in every namespace.
      expect(prometheus.serviceMonitorSelectorNilUsesHelmValues).to.equal(false);
      expect(prometheus.ruleSelectorNilUsesHelmValues).to.equal(false);
      expect(prometheus).not.to.have.any.keys("serviceMonitorSelector", "serviceMonitorNamespaceSelector", "ruleSelector");
      expect(release.values.grafana.admin).to.deep.equal({ existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    });

    it("keeps the chart's admission webhook, and sends alerts nowhere but Alertmanager's UI until a receiver is set", () => {
      const release = declaredResource(run, k8s.release, "kube-prometheus-stack");
      expect(release.values).not.to.have.any.keys("prometheusOperator", "alertmanager");
    });

    it("scrapes /metrics from the backend Service's http port every 15 s", () => {
      const monitor = declaredResource(run, k8s.serviceMonitor, "hit-counter");
      expect(backendService.metadata.labels).to.include(monitor.spec.selector.matchLabels);
      expect(monitor.spec.namespaceSelector).to.deep.equal({ matchNames: [expected.namespace] });
      expect(monitor.spec.endpoints).to.deep.equal([{ port: backendService.spec.ports[0].name, path: "/metrics", interval: "15s" }]);
    });

    it("alerts on 5xx ratio, Redis errors, restarts and the HPA stuck at max", () => {
      const rule = declaredResource(run, k8s.prometheusRule, "hit-counter");
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
      const dashboard = declaredResource(run, k8s.configMap, "hit-counter-dashboard");
      expect(dashboard.metadata).to.deep.include({ namespace: "monitoring", labels: { grafana_dashboard: "1" } });
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

    it(`${expected.disruptionBudget ? "has" : "has no"} PodDisruptionBudget for the backend`, () => {
      const budgets = declaredOfType(run, k8s.pdb);
      if (expected.disruptionBudget) {
        expect(budgets).to.have.length(1);
        expect(budgets[0].spec).to.deep.equal({ maxUnavailable: 1, selector: { matchLabels: backendLabels } });
      } else {
        expect(budgets).to.deep.equal([]);
      }
    });

    it("prints how to reach the app and Grafana", () => {
      expect(run.outputs.appPortForward).to.equal(`kubectl -n ${expected.namespace} port-forward svc/hit-counter 8080:80`);
      expect(run.outputs.grafanaPortForward).to.equal("kubectl -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80");
    });
  });
}

describe("Redis storage per stack", () => {
  it("dev: a Deployment on an emptyDir, without append-only persistence", async () => {
    const run = await runProgram("dev");
    const redis = declaredResource(run, k8s.deployment, "redis");
    expect(redis.spec.strategy).to.deep.equal({ type: "Recreate" });
    expect(redis.spec.template.spec.volumes).to.deep.include({ name: "data", emptyDir: {} });
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.contain("appendonly no\n");
    expect(declaredOfType(run, k8s.statefulSet)).to.deep.equal([]);
  });

  it("prod: a StatefulSet with a 5Gi claim and append-only persistence", async () => {
    const run = await runProgram("prod", stacks.prod.options);
    const redis = declaredResource(run, k8s.statefulSet, "redis");
    expect(redis.spec.volumeClaimTemplates[0].spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } });
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.contain("appendonly yes\nappendfsync everysec\n");
  });
});
