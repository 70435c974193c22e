// Redis (RedisStore): who may reach it and where it keeps its data, each stack file under Pulumi mocks.
import { expect } from "chai";
import { declaredOfType, declaredResource, runProgram } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";
import { backendLabels, forEachStack, redisLabels, stacks } from "./stacks";

forEachStack("Redis (RedisStore): who may reach it", (the, expected) => {
  it("lets only the backend pods reach Redis on 6379", () => {
    const policy = declaredResource(the.run, k8s.networkPolicy, "redis");
    expect(policy.spec).to.deep.equal({
      podSelector: { matchLabels: redisLabels },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: backendLabels } }], ports: [{ protocol: "TCP", port: 6379 }] }],
    });
    expect(declaredResource(the.run, expected.redisKind, "redis").spec.template.metadata.labels).to.deep.equal(redisLabels);
  });
});

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

  it("prod with redisAppendFsync always: Redis fsyncs before it answers each write", async () => {
    const run = await runProgram("prod", { ...stacks.prod.options, config: { ...stacks.prod.options.config, redisAppendFsync: "always" } });
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.contain("appendonly yes\nappendfsync always\n");
  });
});
