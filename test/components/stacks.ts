// What each stack file promises, written out as a user reads it, and the program run once per stack
// under mocks: shared by the component tests beside this file.
import { expect } from "chai";
import { declaredOfType, declaredResource, type Manifest, type ProgramRun, runProgram } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";

export const backendLabels = { "app.kubernetes.io/name": "hit-counter", "app.kubernetes.io/component": "backend", "app.kubernetes.io/part-of": "hit-counter" };
export const redisLabels = { "app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "store", "app.kubernetes.io/part-of": "hit-counter" };

// What each stack file promises, written out as a user reads it.
export const stacks = {
  dev: {
    options: {},
    namespace: "hitcounter-dev",
    image: /^localhost:5000\/hit-counter@sha256:[0-9a-f]{64}$/,
    serviceType: "NodePort",
    replicas: { min: 1, max: 10 },
    scaleDownWindow: 60,
    backendResources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
    redisKind: k8s.deployment,
    redisServices: ["redis"],
    redisReplicated: false,
    disruptionBudget: false,
    controlPlaneScraped: true,
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
    redisServices: ["redis-nodes", "redis-sentinel"],
    redisReplicated: true,
    disruptionBudget: true,
    controlPlaneScraped: false,
  },
};

/** Every pod template in the graph, with the workload that owns it. */
export function workloads(run: ProgramRun): Manifest[] {
  return [...declaredOfType(run, k8s.deployment), ...declaredOfType(run, k8s.statefulSet)];
}

export function containerPortByName(pod: Manifest, name: string): number {
  const port = pod.spec.containers.flatMap((c: Manifest) => c.ports ?? []).find((p: Manifest) => p.name === name);
  expect(port, `a container port named ${name}`).to.be.an("object");
  return port.containerPort;
}

export type StackExpectations = (typeof stacks)[keyof typeof stacks];

/** The program's graph for one stack, filled in before the tests of a describe run. */
export interface StackRun {
  run: ProgramRun;
  backend: Manifest;
  backendService: Manifest;
}

/** One describe per stack file, titled with what is tested; `body` declares the its. */
export function forEachStack(what: string, body: (the: StackRun, expected: StackExpectations, stack: string) => void): void {
  for (const [stack, expected] of Object.entries(stacks)) {
    describe(`the ${stack} stack (Pulumi.${stack}.yaml under mocks): ${what}`, () => {
      const the = {} as StackRun;
      before(async () => {
        the.run = await runProgram(stack, expected.options);
        the.backend = declaredResource(the.run, k8s.deployment, "hit-counter");
        the.backendService = declaredResource(the.run, k8s.service, "hit-counter");
      });
      body(the, expected, stack);
    });
  }
}
