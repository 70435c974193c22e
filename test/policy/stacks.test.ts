// The policy pack over what each stack file declares (the real program under Pulumi mocks): the
// stacks keep every promise, and a stack config that breaks one is refused by its rule.
import { expect } from "chai";
import { createPolicies } from "../../policy/policies";
import { declaredForPolicies, violations } from "../support/policy-check";
import { runProgram } from "../support/pulumi-mocks";
import { stacks } from "../components/stacks";

describe("policy pack: the stacks", () => {
  for (const [stack, expected] of Object.entries(stacks)) {
    it(`${stack}: every resource passes every policy, advisory ones included`, async () => {
      const run = await runProgram(stack, expected.options);
      expect(await violations(createPolicies(), declaredForPolicies(run))).to.deep.equal([]);
    });
  }

  it("dev with an image tag in monitoringChartValues that the config accepts: images-pinned refuses it", async () => {
    const run = await runProgram("dev", { config: { monitoringChartValues: { grafana: { image: { tag: "latest" } } } } });
    expect(await violations(createPolicies(), declaredForPolicies(run))).to.deep.equal([
      'images-pinned: kube-prometheus-stack: Helm value grafana.image.tag is "latest": use a digest (repository@sha256:...) or a tag naming an x.y.z release',
    ]);
  });

  it("dev with an external Redis: every policy passes, the namespace fenced by the backend's egress policy", async () => {
    const run = await runProgram("dev", {
      config: { redisMode: "external", redisHost: "redis.example.com", redisPassword: "token" },
      secretKeys: ["redisPassword"],
    });
    expect(await violations(createPolicies(), declaredForPolicies(run))).to.deep.equal([]);
  });

  it("dev without its HPA (both targets 0): the Deployment sets replicas and no policy objects", async () => {
    const run = await runProgram("dev", { config: { cpuTargetUtilization: 0, memoryTargetUtilization: 0 } });
    expect(await violations(createPolicies(), declaredForPolicies(run))).to.deep.equal([]);
  });
});
