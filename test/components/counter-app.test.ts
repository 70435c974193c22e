// The backend (CounterApp): probes, rollouts, HPA, disruption budget (each stack file through the real program under Pulumi mocks).
import { expect } from "chai";
import { declaredOfType, declaredResource } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";
import { backendLabels, forEachStack } from "./stacks";

forEachStack("the backend (CounterApp): probes, rollouts, HPA, disruption budget", (the, expected) => {
  it("probes /healthz and /readyz on the port the Service targets", () => {
    const container = the.backend.spec.template.spec.containers[0];
    expect(container.startupProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
    expect(container.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).to.deep.equal({ path: "/readyz", port: "http" });
    expect(container.env).to.deep.include({ name: "PORT", value: "3000" });
  });

  it("drains before stopping: a 5 s preStop sleep inside a 30 s grace period, and no pod lost during a rollout", () => {
    expect(the.backend.spec.template.spec.containers[0].lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 5 } } });
    expect(the.backend.spec.template.spec.terminationGracePeriodSeconds).to.equal(30);
    expect(the.backend.spec.strategy.rollingUpdate).to.deep.equal({ maxUnavailable: 0, maxSurge: 1 });
  });

  it(`autoscales the backend Deployment from ${expected.replicas.min} to ${expected.replicas.max} on CPU 50 % and memory 50 %`, () => {
    const hpa = declaredResource(the.run, k8s.hpa, "hit-counter");
    expect(hpa.spec.scaleTargetRef).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", name: the.backend.metadata.name });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).to.deep.equal([expected.replicas.min, expected.replicas.max]);
    expect(hpa.spec.metrics).to.deep.equal([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
      { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 50 } } },
    ]);
    expect(the.run.outputs.hpaName).to.equal(hpa.metadata.name);
  });

  it(`scales up at once and down only after a ${expected.scaleDownWindow} s window`, () => {
    const { behavior } = declaredResource(the.run, k8s.hpa, "hit-counter").spec;
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
    expect(the.backend.spec).not.to.have.property("replicas");
  });

  it(`${expected.disruptionBudget ? "has" : "has no"} PodDisruptionBudget for the backend`, () => {
    const budgets = declaredOfType(the.run, k8s.pdb).filter((budget) => budget.metadata.labels["app.kubernetes.io/component"] === "backend");
    if (expected.disruptionBudget) {
      expect(budgets).to.have.length(1);
      expect(budgets[0].spec).to.deep.equal({ maxUnavailable: 1, selector: { matchLabels: backendLabels } });
    } else {
      expect(budgets).to.deep.equal([]);
    }
  });
});
