// A small stand-in for the Kubernetes API server on loopback, speaking the real JSON of the objects
// the stress tool reads (autoscaling/v2 HPA, apps/v1 Deployment and its scale, v1 Pods, Services)
// and writes (batch/v1 Job, v1 ConfigMap). Used through @kubernetes/client-node with a kubeconfig
// that points at it, so the client's URLs, query strings and decoding are the real ones.
//
// "Running" a Job means what a kubelet would do with ours: start `node` on the script the ConfigMap
// carries, with the container's env, and serve its stdout as the pod's log.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

type Json = Record<string, unknown>;

export interface FakePod {
  name: string;
  labels: Record<string, string>;
  ready: boolean;
  phase?: string;
}

export interface HpaState {
  current: number;
  desired: number;
  cpu: number | null;
  cpuTarget: number;
  /** True for an HPA the controller has not yet processed. */
  unreported?: boolean;
}

interface FakeJob {
  job: Json;
  child?: ChildProcess;
  log: string;
  exited: boolean;
}

export class FakeKubeApi {
  readonly requests: string[] = [];
  hpa: HpaState = { current: 1, desired: 1, cpu: 10, cpuTarget: 50 };
  pods: FakePod[] = [];
  readonly jobs = new Map<string, FakeJob>();
  readonly configMaps = new Map<string, Json>();

  private constructor(
    private readonly server: http.Server,
    readonly kubeconfig: string,
    readonly namespace: string,
    readonly hpaName: string,
    readonly deployment: { name: string; image: string; labels: Record<string, string> },
    readonly service: { name: string; port: number },
  ) {}

  static async start(namespace = "hitcounter", hpaName = "hit-counter"): Promise<FakeKubeApi> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const dir = await mkdtemp(path.join(os.tmpdir(), "fake-kube-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        // client-node refuses plain http unless TLS verification is off, as for `kubectl proxy`.
        clusters: [{ name: "fake", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
        users: [{ name: "tester", user: { token: "fake-token" } }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "tester", namespace } }],
        "current-context": "fake",
      }),
    );
    const labels = { "app.kubernetes.io/name": "hit-counter" };
    const api = new FakeKubeApi(server, kubeconfig, namespace, hpaName, { name: "hit-counter", image: "registry.local/hit-counter@sha256:abc", labels }, { name: "hit-counter", port: 80 });
    api.pods = [{ name: "hit-counter-aaaaa", labels, ready: true }];
    server.on("request", (req, res) => api.handle(req, res));
    return api;
  }

  /** Scales the fake Deployment the way the HPA would: desired first, then pods, then current. */
  scaleTo(replicas: number, cpu: number): void {
    this.hpa = { ...this.hpa, desired: replicas, current: replicas, cpu };
    const labels = this.deployment.labels;
    this.pods = Array.from({ length: replicas }, (_, i) => ({ name: `hit-counter-${"abcdefghij"[i].repeat(5)}`, labels, ready: true }));
  }

  async close(): Promise<void> {
    for (const job of this.jobs.values()) job.child?.kill("SIGKILL");
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://fake");
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      try {
        this.route(req.method ?? "GET", url, body ? (JSON.parse(body) as Json) : {}, res);
      } catch (error) {
        send(res, 500, status(500, (error as Error).message));
      }
    });
  }

  private route(method: string, url: URL, body: Json, res: http.ServerResponse): void {
    const ns = `/namespaces/${this.namespace}`;
    const p = url.pathname;
    const podLog = new RegExp(`^/api/v1${ns}/pods/([^/]+)/log$`).exec(p);
    const pod = new RegExp(`^/api/v1${ns}/pods/([^/]+)$`).exec(p);
    const job = new RegExp(`^/apis/batch/v1${ns}/jobs/([^/]+)$`).exec(p);

    if (method === "GET" && p === `/apis/autoscaling/v2${ns}/horizontalpodautoscalers/${this.hpaName}`) return send(res, 200, this.hpaJson());
    if (method === "GET" && p === `/apis/apps/v1${ns}/deployments/${this.deployment.name}/scale`) return send(res, 200, this.scaleJson());
    if (method === "GET" && p === `/apis/apps/v1${ns}/deployments/${this.deployment.name}`) return send(res, 200, this.deploymentJson());
    if (method === "GET" && p === `/api/v1${ns}/services`) return send(res, 200, this.servicesJson());
    if (method === "GET" && p === `/api/v1${ns}/pods`) return send(res, 200, this.podList(url.searchParams.get("labelSelector") ?? ""));
    if (method === "GET" && podLog) return this.streamLog(podLog[1], url.searchParams.get("follow") === "true", res);
    if (method === "GET" && pod) return this.sendPod(pod[1], res);
    if (method === "POST" && p === `/apis/batch/v1${ns}/jobs`) return send(res, 201, this.createJob(body));
    if (method === "POST" && p === `/api/v1${ns}/configmaps`) return send(res, 201, this.createConfigMap(body));
    if (method === "DELETE" && job) return send(res, 200, this.deleteJob(job[1]));
    send(res, 404, status(404, `the fake API does not serve ${method} ${p}`));
  }

  private hpaJson(): Json {
    return {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: this.hpaName, namespace: this.namespace },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.name },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: this.hpa.cpuTarget } } },
          { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 70 } } },
        ],
      },
      // A new HPA's status, until the controller's first pass, as the API serves it.
      status: this.hpa.unreported ? { desiredReplicas: 0 } : {
        currentReplicas: this.hpa.current,
        desiredReplicas: this.hpa.desired,
        currentMetrics:
          this.hpa.cpu === null
            ? []
            : [
                { type: "Resource", resource: { name: "memory", current: { averageUtilization: 30, averageValue: "40Mi" } } },
                { type: "Resource", resource: { name: "cpu", current: { averageUtilization: this.hpa.cpu, averageValue: "20m" } } },
              ],
      },
    };
  }

  private scaleJson(): Json {
    const selector = Object.entries(this.deployment.labels).map(([k, v]) => `${k}=${v}`).join(",");
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: this.deployment.name, namespace: this.namespace },
      spec: { replicas: this.hpa.current },
      status: { replicas: this.hpa.current, selector },
    };
  }

  private deploymentJson(): Json {
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: this.deployment.name, namespace: this.namespace },
      spec: {
        selector: { matchLabels: this.deployment.labels },
        template: { metadata: { labels: this.deployment.labels }, spec: { containers: [{ name: "hit-counter", image: this.deployment.image }] } },
      },
    };
  }

  private servicesJson(): Json {
    const item = (name: string, selector: Json, port: number) => ({
      metadata: { name, namespace: this.namespace },
      spec: { type: "ClusterIP", selector, ports: [{ name: "http", port, targetPort: "http" }] },
    });
    return {
      apiVersion: "v1",
      kind: "ServiceList",
      metadata: {},
      items: [item("redis", { "app.kubernetes.io/name": "redis" }, 6379), item(this.service.name, this.deployment.labels, this.service.port)],
    };
  }

  private podJson(pod: FakePod): Json {
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: pod.name, namespace: this.namespace, labels: pod.labels },
      status: {
        phase: pod.phase ?? "Running",
        conditions: [{ type: "Ready", status: pod.ready ? "True" : "False" }],
        containerStatuses: [{ name: "c", ready: pod.ready, restartCount: 0, image: "i", imageID: "", state: { running: {} } }],
      },
    };
  }

  private allPods(): FakePod[] {
    const jobPods = [...this.jobs.entries()].map(([name, job]) => ({
      name: `${name}-pod`,
      labels: { "job-name": name },
      ready: !job.exited,
      phase: job.exited ? "Succeeded" : job.child ? "Running" : "Pending",
    }));
    return [...this.pods, ...jobPods];
  }

  private podList(selector: string): Json {
    const wanted = selector.split(",").filter(Boolean).map((term) => term.split("="));
    const items = this.allPods()
      .filter((pod) => wanted.every(([k, v]) => pod.labels[k] === v))
      .map((pod) => this.podJson(pod));
    return { apiVersion: "v1", kind: "PodList", metadata: {}, items };
  }

  private sendPod(name: string, res: http.ServerResponse): void {
    const pod = this.allPods().find((p) => p.name === name);
    if (pod) send(res, 200, this.podJson(pod));
    else send(res, 404, status(404, `pods "${name}" not found`));
  }

  private createJob(job: Json): Json {
    const meta = job.metadata as Json;
    const created = { ...job, metadata: { ...meta, uid: `uid-${String(meta.name)}` } };
    this.jobs.set(String(meta.name), { job: created, log: "", exited: false });
    return created;
  }

  private createConfigMap(configMap: Json): Json {
    const name = String((configMap.metadata as Json).name);
    this.configMaps.set(name, configMap);
    const job = this.jobs.get(name);
    if (job) void this.runJob(job, configMap);
    return configMap;
  }

  /** The kubelet's part: mount the ConfigMap, start the container with its command and env. */
  private async runJob(job: FakeJob, configMap: Json): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fake-pod-"));
    const container = ((((job.job.spec as Json).template as Json).spec as Json).containers as Json[])[0];
    const mountPath = ((container.volumeMounts as Json[])[0].mountPath as string).replace(/\/$/, "");
    for (const [file, text] of Object.entries(configMap.data as Record<string, string>)) await writeFile(path.join(dir, file), text);
    const [, script] = container.command as string[];
    const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const child = spawn(process.execPath, [script.replace(mountPath, dir)], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    job.child = child;
    child.stdout?.on("data", (chunk: Buffer) => (job.log += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (job.log += chunk.toString()));
    // "close", not "exit": the last output is read by then.
    child.once("close", () => (job.exited = true));
  }

  /** Like the kubelet's log endpoint: everything so far, and with follow=true the rest until the container exits. */
  private streamLog(podName: string, follow: boolean, res: http.ServerResponse): void {
    const job = this.jobs.get(podName.replace(/-pod$/, ""));
    if (!job) return send(res, 404, status(404, `pods "${podName}" not found`));
    res.writeHead(200, { "content-type": "text/plain" });
    let sent = 0;
    const pump = () => {
      res.write(job.log.slice(sent));
      sent = job.log.length;
      if (!follow || job.exited) res.end();
      else setTimeout(pump, 50);
    };
    pump();
  }

  private deleteJob(name: string): Json {
    const job = this.jobs.get(name);
    // Deleting a Job deletes its pod: the container gets SIGTERM and its grace period.
    job?.child?.kill("SIGTERM");
    return status(200, "deleted");
  }
}

function status(code: number, message: string): Json {
  return { apiVersion: "v1", kind: "Status", status: code < 400 ? "Success" : "Failure", message, code };
}

function send(res: http.ServerResponse, code: number, body: Json): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
