// The program: namespaces, workloads, images and outputs (each stack file through the real program under Pulumi mocks).
import { expect } from "chai";
import { declaredResource, isSecretInput } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";
import { backendLabels, containerPortByName, forEachStack, workloads } from "./stacks";

forEachStack("the program: namespaces, workloads, images and outputs", (the, expected) => {
  it(`puts the app in namespace ${expected.namespace}, which enforces Pod Security restricted`, () => {
    const namespace = declaredResource(the.run, k8s.namespace, expected.namespace);
    expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    for (const workload of workloads(the.run)) expect(workload.metadata.namespace).to.equal(expected.namespace);
    expect(the.run.outputs.namespace).to.equal(expected.namespace);
  });

  it("gives every workload a selector that matches its own pod labels", () => {
    for (const workload of workloads(the.run)) {
      expect(workload.spec.template.metadata.labels).to.include(workload.spec.selector.matchLabels);
    }
    expect(the.backend.spec.selector.matchLabels).to.deep.equal(backendLabels);
  });

  it("sends each Service's traffic to the pods and container port that serve it", () => {
    const redis = declaredResource(the.run, expected.redisKind, "redis");
    for (const [service, pods] of [
      [the.backendService, the.backend.spec.template],
      ...expected.redisServices.map((name) => [declaredResource(the.run, k8s.service, name), redis.spec.template]),
    ]) {
      expect(pods.metadata.labels).to.include(service.spec.selector);
      for (const port of service.spec.ports) containerPortByName(pods, port.targetPort);
    }
    expect(the.backendService.spec.type).to.equal(expected.serviceType);
    expect(the.backendService.spec.ports).to.deep.equal([{ name: "http", port: 80, targetPort: "http" }]);
    expect(containerPortByName(the.backend.spec.template, "http")).to.equal(3000);
  });

  it("gives every container CPU and memory requests and limits", () => {
    for (const workload of workloads(the.run)) {
      for (const container of workload.spec.template.spec.containers) {
        expect(Object.keys(container.resources.requests).sort(), container.name).to.deep.equal(["cpu", "memory"]);
        expect(Object.keys(container.resources.limits).sort(), container.name).to.deep.equal(["cpu", "memory"]);
      }
    }
    expect(the.backend.spec.template.spec.containers[0].resources).to.deep.equal(expected.backendResources);
  });

  it("runs every pod as Pod Security restricted demands", () => {
    for (const workload of workloads(the.run)) {
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

  it("deploys the pushed image by digest and pins every other image to a version", () => {
    const image = the.backend.spec.template.spec.containers[0].image;
    expect(image).to.match(expected.image);
    expect(the.run.outputs.imageReference).to.equal(image);
    for (const workload of workloads(the.run)) {
      for (const container of workload.spec.template.spec.containers) {
        expect(container.image).to.match(/@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+[^:@/]*$/);
      }
    }
  });

  it("keeps the Redis and Grafana passwords secret, and the backend reads Redis's from the Secret", () => {
    for (const name of ["redis", "grafana-admin"]) {
      const secret = the.run.resources.find((r) => r.type === k8s.secret && r.name === name);
      expect(isSecretInput(secret?.inputs.stringData), name).to.equal(true);
    }
    const redisSecret = declaredResource(the.run, k8s.secret, "redis");
    expect(redisSecret.stringData.password).to.equal("generated-redis-password");
    expect(redisSecret.stringData["redis.conf"]).to.contain("requirepass generated-redis-password\n");
    expect(the.backend.spec.template.spec.containers[0].env).to.deep.include({
      name: "REDIS_PASSWORD",
      valueFrom: { secretKeyRef: { name: redisSecret.metadata.name, key: "password" } },
    });
    expect(JSON.stringify(declaredResource(the.run, k8s.release, "kube-prometheus-stack").values)).not.to.contain("generated-");
  });

  it("prints how to reach the app and Grafana", () => {
    expect(the.run.outputs.appPortForward).to.equal(`kubectl -n ${expected.namespace} port-forward svc/hit-counter 8080:80`);
    expect(the.run.outputs.grafanaPortForward).to.equal(`kubectl -n ${expected.namespace}-monitoring port-forward svc/${expected.namespace}-kps-grafana 3000:80`);
  });
});
