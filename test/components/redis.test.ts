// Redis (RedisStore): who may reach it and where it keeps its data, each stack file under Pulumi mocks.
import { spawnSync } from "node:child_process";
import { expect } from "chai";
import { declaredOfType, declaredResource, runProgram } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";
import { backendLabels, forEachStack, redisLabels, stacks } from "./stacks";

forEachStack("Redis (RedisStore): who may reach it", (the, expected) => {
  it(`lets only the backend pods${expected.redisReplicated ? " and the Redis pods themselves reach Redis and its Sentinels" : " reach Redis on 6379"}`, () => {
    const policy = declaredResource(the.run, k8s.networkPolicy, "redis");
    const ingress = expected.redisReplicated
      ? { from: [{ podSelector: { matchLabels: backendLabels } }, { podSelector: { matchLabels: redisLabels } }], ports: [6379, 26379].map((port) => ({ protocol: "TCP", port })) }
      : { from: [{ podSelector: { matchLabels: backendLabels } }], ports: [{ protocol: "TCP", port: 6379 }] };
    expect(policy.spec).to.deep.equal({ podSelector: { matchLabels: redisLabels }, policyTypes: ["Ingress"], ingress: [ingress] });
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

  it("prod: a StatefulSet of three pods, each with a 5Gi claim and append-only persistence", async () => {
    const run = await runProgram("prod", stacks.prod.options);
    const redis = declaredResource(run, k8s.statefulSet, "redis");
    expect(redis.spec.replicas).to.equal(3);
    expect(redis.spec.volumeClaimTemplates[0].spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } });
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.contain("appendonly yes\nappendfsync everysec\n");
  });

  it("prod with redisAppendFsync always: Redis fsyncs before it answers each write", async () => {
    const run = await runProgram("prod", { ...stacks.prod.options, config: { ...stacks.prod.options.config, redisAppendFsync: "always" } });
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.contain("appendonly yes\nappendfsync always\n");
  });
});

describe("Redis with replicas and Sentinel (prod: redisReplicas 2)", () => {
  const replicated = stacks.prod.options;
  let run: Awaited<ReturnType<typeof runProgram>>;
  before(async () => (run = await runProgram("prod", replicated)));

  it("runs three pods, each with redis-server and a Sentinel, preferably on different nodes and zones", () => {
    const redis = declaredResource(run, k8s.statefulSet, "redis");
    expect(redis.spec.replicas).to.equal(3);
    expect(redis.spec.serviceName).to.equal("redis-nodes");
    const pod = redis.spec.template.spec;
    expect(pod.containers.map((c: { name: string; args: string[] }) => [c.name, c.args])).to.deep.equal([
      ["redis", ["sh", "/scripts/redis.sh"]],
      ["sentinel", ["sh", "/scripts/sentinel.sh"]],
    ]);
    const term = (topologyKey: string) => ({ topologyKey, labelSelector: { matchLabels: redisLabels } });
    expect(pod.affinity.podAntiAffinity).to.deep.equal({
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: term("kubernetes.io/hostname") },
        { weight: 50, podAffinityTerm: term("topology.kubernetes.io/zone") },
      ],
    });
    const env = Object.fromEntries(pod.containers[1].env.filter((e: { value?: string }) => e.value).map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).to.deep.equal({ NODES: "redis-nodes", PODS: "3", MASTER: "hit-counter", QUORUM: "2" });
    expect(redis.spec.volumeClaimTemplates[0].spec.resources).to.deep.equal({ requests: { storage: "5Gi" } });
  });

  it("hands the primary's role to a replica before a planned stop of its pod, in start scripts that sh parses", () => {
    const redis = declaredResource(run, k8s.statefulSet, "redis").spec.template.spec.containers[0];
    expect(redis.lifecycle).to.deep.equal({ preStop: { exec: { command: ["sh", "/scripts/handover.sh"] } } });
    const scripts: Record<string, string> = declaredResource(run, k8s.configMap, "redis-scripts").data;
    expect(Object.keys(scripts).sort()).to.deep.equal(["common.sh", "handover.sh", "redis.sh", "sentinel.sh"]);
    for (const [name, script] of Object.entries(scripts)) expect(spawnSync("sh", ["-n"], { input: script, encoding: "utf8" }).stderr, name).to.equal("");
  });

  it("lets one Redis pod go at a time in a drain", () => {
    expect(declaredResource(run, k8s.pdb, "redis").spec).to.deep.equal({ maxUnavailable: 1, selector: { matchLabels: redisLabels } });
  });

  it("points the backend at the Sentinels, not at one Redis", () => {
    const env = declaredResource(run, k8s.deployment, "hit-counter").spec.template.spec.containers[0].env;
    const byName = Object.fromEntries(env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(byName).to.include({ REDIS_SENTINELS: "redis-sentinel:26379", REDIS_SENTINEL_MASTER: "hit-counter" });
    expect(byName).to.not.have.any.keys("REDIS_HOST", "REDIS_PORT");
    expect(declaredResource(run, k8s.service, "redis-sentinel").spec.ports).to.deep.equal([{ name: "sentinel", port: 26379, targetPort: "sentinel" }]);
    expect(declaredResource(run, k8s.service, "redis-nodes").spec).to.include({ clusterIP: "None", publishNotReadyAddresses: true });
    expect(declaredOfType(run, k8s.service).map((s) => s.metadata.name)).to.not.include("redis");
  });

  it("admits the backend and the Redis pods themselves to 6379 and 26379, no one else", () => {
    expect(declaredResource(run, k8s.networkPolicy, "redis").spec.ingress).to.deep.equal([
      {
        from: [{ podSelector: { matchLabels: backendLabels } }, { podSelector: { matchLabels: redisLabels } }],
        ports: [
          { protocol: "TCP", port: 6379 },
          { protocol: "TCP", port: 26379 },
        ],
      },
    ]);
  });

  it("has replicas log in with the password, and refuses writes short of redisMinReplicasToWrite", async () => {
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.match(/\nrequirepass (\S+)\nmasterauth \1\n$/);
    const guarded = await runProgram("prod", { ...replicated, config: { ...replicated.config, redisMinReplicasToWrite: 1 } });
    expect(declaredResource(run, k8s.secret, "redis").stringData["redis.conf"]).to.not.contain("min-replicas-to-write");
    expect(declaredResource(guarded, k8s.secret, "redis").stringData["redis.conf"]).to.contain("min-replicas-to-write 1\nmin-replicas-max-lag 10\n");
  });
});
