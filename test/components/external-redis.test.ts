// An external Redis (redisMode external: ElastiCache, Memorystore, Azure Cache) under Pulumi mocks: the
// stack runs no Redis of its own, carries the password (a Pulumi secret) and the CA bundle into the
// cluster in a Secret, and tells the backend where Redis is and how to trust it.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { type ConfigValue, declaredOfType, declaredResource, isSecretInput, type Manifest, type ProgramRun, runProgram } from "../support/pulumi-mocks";
import { resourceType as k8s } from "../support/resource-types";
import { makeCertificateAuthority } from "../support/tls-certificates";
import { backendLabels } from "./stacks";

const password = "managed-redis-token";

/** The dev stack pointed at an external Redis, with `config` on top. */
function runExternal(config: Record<string, ConfigValue>): Promise<ProgramRun> {
  return runProgram("dev", {
    config: { redisMode: "external", redisHost: "master.counter.abc123.use1.cache.amazonaws.com", redisPort: 6380, redisPassword: password, ...config },
    secretKeys: ["redisPassword"],
  });
}

function backendContainer(run: ProgramRun): Manifest {
  return declaredResource(run, k8s.deployment, "hit-counter").spec.template.spec.containers[0];
}

describe("an external Redis (redisMode external, under mocks)", () => {
  let caBundle: string;
  let run: ProgramRun;

  before(async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "external-redis-"));
    try {
      // Two CAs: a bundle, as a provider's rotation period has them.
      const [current, next] = [await makeCertificateAuthority(dir, "current-ca"), await makeCertificateAuthority(dir, "next-ca")];
      caBundle = (await fs.readFile(current.certFile, "utf8")) + (await fs.readFile(next.certFile, "utf8"));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    run = await runExternal({ redisTlsCaBundle: caBundle });
  });

  it("runs no Redis: no workload, Service, volume claim, generated password or ingress policy of Redis", () => {
    expect(declaredOfType(run, k8s.statefulSet)).to.deep.equal([]);
    expect(declaredOfType(run, k8s.deployment).map((d) => d.metadata.name)).to.deep.equal(["hit-counter"]);
    expect(declaredOfType(run, k8s.service).map((s) => s.metadata.name)).not.to.include("redis");
    expect(run.resources.map((r) => r.type)).not.to.include("kubernetes:core/v1:PersistentVolumeClaim");
    expect(run.resources.map((r) => r.name)).not.to.include("redis-password");
    expect(declaredOfType(run, k8s.networkPolicy).map((p) => p.spec.policyTypes)).to.deep.equal([["Egress"]]);
  });

  it("keeps the password and the CA bundle in one Secret, the password a Pulumi secret", () => {
    const secret = declaredResource(run, k8s.secret, "external-redis");
    expect(secret.metadata.name).to.equal("external-redis-auth");
    // As the config reader returns every value: without the surrounding whitespace.
    expect(secret.stringData).to.deep.equal({ password, "ca.crt": caBundle.trim() });
    const raw = run.resources.find((r) => r.type === k8s.secret && r.name === "external-redis")?.inputs.stringData;
    expect(isSecretInput(raw), "the Secret's data is a Pulumi secret in the state").to.equal(true);
  });

  it("tells the backend where Redis is, to use TLS, which CAs to trust, and where the password is", () => {
    expect(backendContainer(run).env).to.deep.equal([
      { name: "PORT", value: "3000" },
      { name: "REDIS_HOST", value: "master.counter.abc123.use1.cache.amazonaws.com" },
      { name: "REDIS_PORT", value: "6380" },
      { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "external-redis-auth", key: "password" } } },
      { name: "REDIS_TLS", value: "true" },
      { name: "REDIS_TLS_CA_FILE", value: "/etc/redis-tls/ca.crt" },
      { name: "LOG_LEVEL", value: "info" },
    ]);
  });

  it("mounts only the CA bundle from the Secret, read-only, where REDIS_TLS_CA_FILE points", () => {
    const pod = declaredResource(run, k8s.deployment, "hit-counter").spec.template.spec;
    expect(pod.volumes).to.deep.include({ name: "redis-ca", secret: { secretName: "external-redis-auth", items: [{ key: "ca.crt", path: "ca.crt" }] } });
    expect(backendContainer(run).volumeMounts).to.deep.include({ name: "redis-ca", mountPath: "/etc/redis-tls", readOnly: true });
  });

  it("lets the backend reach Redis's port and DNS and nothing else", () => {
    expect(declaredResource(run, k8s.networkPolicy, "external-redis").spec).to.deep.equal({
      podSelector: { matchLabels: backendLabels },
      policyTypes: ["Egress"],
      egress: [{ ports: [{ protocol: "TCP", port: 6380 }] }, { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] }],
    });
  });

  it("without a CA bundle trusts Node's public CAs: TLS on, nothing mounted", async () => {
    const publicCas = await runExternal({});
    expect(declaredResource(publicCas, k8s.secret, "external-redis").stringData).to.deep.equal({ password });
    const env = backendContainer(publicCas).env.map((variable: Manifest) => variable.name);
    expect(env).to.include("REDIS_TLS").and.not.to.include("REDIS_TLS_CA_FILE");
    expect(backendContainer(publicCas).volumeMounts).to.deep.equal([{ name: "tmp", mountPath: "/tmp" }]);
  });

  it("with redisTls false connects in plain text: neither REDIS_TLS nor a CA", async () => {
    const plain = await runExternal({ redisTls: false });
    const env = backendContainer(plain).env.map((variable: Manifest) => variable.name);
    expect(env).not.to.include("REDIS_TLS").and.not.to.include("REDIS_TLS_CA_FILE");
  });
});
