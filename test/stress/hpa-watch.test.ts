// The HPA watcher against a faithful fake of the Kubernetes API, through the real client.
import { expect } from "chai";
import { HpaWatcher, type HpaSnapshot } from "../../stress/cluster/hpa-watch";
import { FakeKubeApi } from "../support/fake-kube-api";

describe("stress: HPA watcher", () => {
  let api: FakeKubeApi;

  beforeEach(async () => {
    api = await FakeKubeApi.start();
  });
  afterEach(() => api.close());

  const connect = (onSnapshot: (s: HpaSnapshot) => void, onError: (m: string) => void = () => undefined, intervalMs = 2000) =>
    HpaWatcher.connect(api.kubeconfig, api.namespace, api.hpaName, onSnapshot, onError, intervalMs);

  it("reads replicas, CPU against target, and the Ready pods of the HPA's target", async () => {
    api.pods.push(
      { name: "hit-counter-notready", labels: api.deployment.labels, ready: false },
      { name: "someone-else", labels: { app: "other" }, ready: true },
    );
    const watcher = await connect(() => undefined);
    const snapshot = await watcher.snapshot();
    expect(snapshot).to.include({ current: 1, desired: 1, cpu: 10, cpuTarget: 50 });
    expect(snapshot.ready).to.deep.equal(["hit-counter-aaaaa"]);
    // The pods were found through the scale subresource's selector, as on a real cluster.
    expect(api.requests).to.include(`GET /api/v1/namespaces/hitcounter/pods?labelSelector=${encodeURIComponent("app.kubernetes.io/name=hit-counter")}`);
  });

  it("says null CPU until metrics-server has reported", async () => {
    api.hpa = { ...api.hpa, cpu: null };
    const snapshot = await (await connect(() => undefined)).snapshot();
    expect(snapshot.cpu).to.equal(null);
    expect(snapshot.cpuTarget).to.equal(50);
  });

  it("reads the target's replicas until the HPA controller has first reported", async () => {
    api.hpa = { ...api.hpa, unreported: true };
    const snapshot = await (await connect(() => undefined)).snapshot();
    expect(snapshot).to.include({ current: 1, desired: 1, cpu: null });
  });

  it("records a scale-out in its series while polling", async () => {
    const snapshots: HpaSnapshot[] = [];
    const watcher = await connect((s) => snapshots.push(s), undefined, 100);
    watcher.start();
    while (snapshots.length < 2) await new Promise((r) => setTimeout(r, 20));
    api.scaleTo(3, 140);
    const seen = snapshots.length;
    while (snapshots.length < seen + 2) await new Promise((r) => setTimeout(r, 20));
    await watcher.stop();
    expect(snapshots[0]).to.include({ current: 1, desired: 1, cpu: 10 });
    const last = snapshots.at(-1) as HpaSnapshot;
    expect(last).to.include({ current: 3, desired: 3, cpu: 140 });
    expect(last.ready).to.have.length(3);
    expect(snapshots.map((s) => s.at)).to.deep.equal([...snapshots.map((s) => s.at)].sort((a, b) => a - b));
  });

  it("reports a failing poll and keeps polling", async () => {
    const errors: string[] = [];
    const snapshots: HpaSnapshot[] = [];
    const watcher = await HpaWatcher.connect(api.kubeconfig, api.namespace, "no-such-hpa", (s) => snapshots.push(s), (m) => errors.push(m), 50);
    watcher.start();
    while (errors.length < 2) await new Promise((r) => setTimeout(r, 20));
    await watcher.stop();
    expect(errors[0]).to.match(/^HPA hitcounter\/no-such-hpa: /);
    expect(snapshots).to.have.length(0);
  });
});
