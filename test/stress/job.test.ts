// In-cluster mode end to end against the fake API: the CLI bundles the agent, creates the Job and
// its ConfigMap, the fake "kubelet" runs the bundle with the Job's env, and the CLI rebuilds the
// run from the pod's log. The load itself hits the real service on loopback.
import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { main } from "../../stress/cli";
import { jobManifest } from "../../stress/cluster/job-manifests";
import { findTarget } from "../../stress/cluster/target";
import { loadKubeConfig } from "../../stress/cluster/kube";
import type { Series } from "../../stress/load/series";
import { RedisServer } from "../support/redis-server";
import { ServiceProcess } from "../support/service-process";
import { FakeKubeApi } from "../support/fake-kube-api";

describe("stress: in-cluster Job mode", function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let service: ServiceProcess;
  let api: FakeKubeApi;

  before(async () => {
    redis = await RedisServer.start();
    service = await ServiceProcess.start({ REDIS_URL: redis.url, COUNTER_KEY: "hits" });
    api = await FakeKubeApi.start();
  });
  after(async () => {
    await service?.stop();
    await redis?.stop();
    await api?.close();
  });

  it("finds the image the HPA's Deployment runs and its ClusterIP Service's in-cluster URL", async () => {
    const { kube, config } = await loadKubeConfig(api.kubeconfig);
    expect(await findTarget(kube, config, api.namespace, api.hpaName)).to.deep.equal({
      image: api.deployment.image,
      url: "http://hit-counter.hitcounter.svc:80",
    });
  });

  it("declares a bounded, restricted Job that runs the agent with the plan", () => {
    const plan = { url: "http://hit-counter.hitcounter.svc:80", stages: [{ name: "surge", seconds: 60, connections: 50 }], maxRequests: 1000, timeoutSeconds: 10, reconnectSeconds: 10 };
    const job = jobManifest({ name: "stress-abc", namespace: "hitcounter", image: "img@sha256:1", plan });
    const pod = job.spec?.template.spec;
    const container = pod?.containers[0];
    expect(job.spec?.backoffLimit).to.equal(0);
    // Six 10 s rounds, each allowed a 10 s timeout and 2 s to drain.
    expect(job.spec?.activeDeadlineSeconds).to.equal(60 + 6 * 12 + 300);
    expect(container?.image).to.equal("img@sha256:1");
    expect(container?.command).to.deep.equal(["node", "/stress/agent.cjs"]);
    expect(JSON.parse(container?.env?.[0].value ?? "")).to.deep.equal(plan);
    expect(pod?.securityContext).to.include({ runAsNonRoot: true });
    expect(container?.securityContext).to.deep.include({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // Not the backend's labels: Redis's NetworkPolicy must not let the load generator in.
    expect(job.spec?.template.metadata?.labels).to.not.have.property("app.kubernetes.io/component");
  });

  it("runs the load from the Job and reports it as a local run would, counter check included", async () => {
    const before = Number((await redis.cli("GET", "hits")) || 0);
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "stress-job-")), "report");
    const series = (await main(
      ["--in-cluster", "--url", `${service.url}/`, "--stages", "one:1s:4,two:1s:8", "--out", out, "--kubeconfig", api.kubeconfig, "--namespace", api.namespace, "--hpa", api.hpaName],
      { out: new PassThrough(), err: new PassThrough() },
    )) as Series;
    const after = Number(await redis.cli("GET", "hits"));

    expect(series.mode).to.equal("in-cluster");
    const [name, job] = [...api.jobs.entries()][0];
    expect(name).to.match(/^stress-[0-9a-f]{6}$/);
    expect(api.configMaps.get(name)?.metadata).to.deep.include({ ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid: `uid-${name}`, blockOwnerDeletion: false }] });
    expect(job.exited).to.equal(true);
    expect(api.requests).to.include(`DELETE /apis/batch/v1/namespaces/hitcounter/jobs/${name}?propagationPolicy=Background`);

    const { total } = series.result;
    expect(total.ok).to.be.greaterThan(50);
    expect(series.result.stages.map((s) => s.stage)).to.deep.equal(["one", "two"]);
    expect(series.buckets.reduce((sum, b) => sum + b.ok, 0)).to.equal(total.ok);
    expect(series.result.check).to.include({ exact: true, successes: total.ok });
    expect(after - before).to.equal(total.ok + 2);
    expect(series.replicas.length).to.be.greaterThan(0);
  });
});
