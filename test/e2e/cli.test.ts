// A user's first `pulumi up`, as the README tells it: the real `pulumi` binary and its Node language
// host run index.ts from a copy of the project; docker.Image builds service/ with the real dockerd
// (from the offline stand-in base images) and pushes it to the loopback registry; the Kubernetes
// provider deploys to the local cluster. Each `it` is one step a user takes, in order: the suite
// stops at the first failure (--bail), since later steps stand on earlier ones.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { eventually, LocalCluster } from "../support/local-cluster";
import { E2eProject, type PulumiCli } from "../support/e2e-project";

/** Pulumi.dev.yaml's namespace: the suite deploys the stack file as it is, bar the overrides below. */
const namespace = "hitcounter-dev";
const backendSelector = "app.kubernetes.io/name=hit-counter,app.kubernetes.io/component=backend";
const registryPassword = "e2e-registry-token-d41d8cd98f00";

/** What `pulumi preview --json` prints, as far as the suite reads it. */
interface Preview {
  steps: { op: string; urn: string }[];
  changeSummary: Record<string, number>;
}

/** `op type name` of every step that changes something, sorted. */
function changes(preview: Preview): string[] {
  return preview.steps
    .filter((step) => step.op !== "same")
    .map((step) => {
      // urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
      const [, , types, name] = step.urn.split("::");
      return `${step.op} ${types.split("$").pop()} ${name}`;
    })
    .filter((step) => !step.includes("pulumi:pulumi:Stack") && !step.includes("pulumi:providers:"))
    .sort();
}

// The summary `pulumi preview` and `up` print after running a policy pack that found nothing.
const policyPackPassed = /Policies:\s+✅ hit-counter@v\S+ \(local: policy\)/;

describe("end to end: `pulumi up` of the dev stack with the real CLI, as a user runs it", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let cli: PulumiCli;
  const timings: [string, number][] = [];

  async function timed(what: string, ...args: string[]) {
    const run = await cli.run(...args);
    timings.push([what, run.seconds]);
    return run;
  }

  async function deployedImages(): Promise<string[]> {
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    return deployment.spec?.template.spec?.containers.map((c) => c.image ?? "") ?? [];
  }

  before(function () {
    cluster = new LocalCluster();
    project = E2eProject.create(cluster.kubeconfig);
    cli = project.cli();
  });

  after(async function () {
    await cli?.run("destroy", "--yes", "--stack", "dev").catch(() => undefined);
    project?.remove();
    if (timings.length) console.log(`\n    timings:\n${timings.map(([what, s]) => `      ${s.toFixed(1).padStart(6)} s  ${what}`).join("\n")}`);
  });

  it("logs in to a local backend and creates the dev stack from Pulumi.dev.yaml", async function () {
    const plugins = await cli.json<{ name: string; kind: string; version: string }[]>("plugin", "ls");
    expect(plugins.map((p) => `${p.kind} ${p.name} ${p.version}`).sort()).to.deep.equal(["resource docker 4.11.0", "resource kubernetes 4.25.0"]);
    await cli.run("login", `file://${project.state}`);
    expect((await cli.run("whoami", "--verbose")).stdout).to.include(`file://${project.state}`);
    await cli.run("stack", "init", "dev");
    // Pulumi.dev.yaml names minikube's context, which this kubeconfig lacks: nothing is deployed to
    // the kubeconfig's current context instead.
    const wrongCluster = await cli.run("preview").then(() => "", (error: Error) => error.message);
    expect(wrongCluster).to.include(`Invalid config hitcounter:kubeContext: expected a context of your kubeconfig (${cluster.context}), got "minikube"`);
    await cli.run("config", "set", "kubeContext", cluster.context);
    // The laptop's registry is the local one; the base images are the offline stand-ins.
    await cli.useLocalBuild(cluster.registry);
    await cli.run("config", "set", "registryUsername", "e2e");
    await cli.run("config", "set", "--secret", "registryPassword", registryPassword);
    await cli.run("config", "set", "monitoringEnabled", "false");

    const config = await cli.json<Record<string, { value?: unknown; secret: boolean }>>("config");
    expect(config["hitcounter:namespace"].value).to.equal(namespace);
    expect(config["hitcounter:registryPassword"]).to.deep.equal({ secret: true });
    expect(fs.readFileSync(path.join(project.dir, "Pulumi.dev.yaml"), "utf8")).not.to.include(registryPassword);
  });

  it("previews every resource, all to be created", async function () {
    const started = performance.now();
    const preview = await cli.json<Preview>("preview");
    timings.push(["pulumi preview (cold)", (performance.now() - started) / 1000]);
    expect(changes(preview)).to.include.members([
      "create hitcounter:index:CounterImage hit-counter",
      "create docker:index/image:Image hit-counter",
      `create kubernetes:core/v1:Namespace ${namespace}`,
      "create kubernetes:core/v1:Secret redis",
      "create kubernetes:apps/v1:Deployment redis",
      "create kubernetes:networking.k8s.io/v1:NetworkPolicy redis",
      "create kubernetes:apps/v1:Deployment hit-counter",
      "create kubernetes:core/v1:Service hit-counter",
      "create kubernetes:autoscaling/v2:HorizontalPodAutoscaler hit-counter",
    ]);
    expect(changes(preview).filter((step) => !step.startsWith("create "))).to.deep.equal([]);
  });

  it("`pulumi up` with the policy pack builds service/, pushes it, and the Deployment runs exactly the digest the registry serves", async function () {
    const up = await timed("pulumi up (cold, monitoring off, policy pack)", "up", "--yes", "--policy-pack", "policy");
    expect(up.stdout).to.match(policyPackPassed);
    const outputs = await cli.json<Record<string, string>>("stack", "output");
    const digest = await cluster.registryDigest("hit-counter", "dev");
    expect(outputs.imageReference).to.equal(`${cluster.registry}/hit-counter@${digest}`);
    expect(await deployedImages()).to.deep.equal([outputs.imageReference]);
    const deployment = await cluster.apps.readNamespacedDeployment({ name: "hit-counter", namespace });
    expect(deployment.status?.readyReplicas).to.equal(1);
    expect(outputs.appPortForward).to.equal(`kubectl -n ${namespace} port-forward svc/hit-counter 8080:80`);
  });

  it("a second `pulumi up` changes nothing and rebuilds nothing", async function () {
    const before = await cluster.registryDigest("hit-counter", "dev");
    await timed("pulumi preview --expect-no-changes (no-op)", "preview", "--expect-no-changes");
    await timed("pulumi up --expect-no-changes (no-op)", "up", "--yes", "--expect-no-changes");
    expect(await cluster.registryDigest("hit-counter", "dev")).to.equal(before);
  });

  it("keeps the Redis and registry passwords out of the state in plain text", async function () {
    const secret = await cluster.core.readNamespacedSecret({ name: "redis-auth", namespace });
    const redisPassword = Buffer.from(Object.values(secret.data ?? {})[0] ?? "", "base64").toString();
    expect(redisPassword).to.have.length.of.at.least(32);
    const state = (await cli.run("stack", "export")).stdout;
    expect(state).not.to.include(redisPassword);
    expect(state).not.to.include(registryPassword);
    expect(state).not.to.include(Buffer.from(redisPassword).toString("base64"));
    // The same export with secrets decrypted has both: the check above looks at the right state.
    const decrypted = (await cli.run("stack", "export", "--show-secrets")).stdout;
    expect(decrypted).to.include(redisPassword).and.include(registryPassword);
  });

  it("rejects invalid config at preview, naming the key, and changes nothing", async function () {
    await cli.run("config", "set", "maxReplicas", "0");
    const failure = await cli.run("preview").then(() => "", (error: Error) => error.message);
    expect(failure).to.include('Invalid config hitcounter:maxReplicas: expected an integer >= hitcounter:minReplicas (1), got "0"');
    await cli.run("config", "rm", "maxReplicas");
    await cli.run("preview", "--expect-no-changes");
  });

  it("refuses, through strict mode, any Kubernetes resource that does not go through the stack's own provider", async function () {
    const program = path.join(project.dir, "components", "program.ts");
    const original = fs.readFileSync(program, "utf8");
    // A resource that forgot its provider would fall back to the current kubectl context.
    const forgetful = original.replace("{ ...onCluster, protect: config.redis.persistence?.protect }", "{ protect: config.redis.persistence?.protect }");
    expect(forgetful).not.to.equal(original);
    fs.writeFileSync(program, forgetful);
    try {
      const failure = await cli.run("preview").then(() => "", (error: Error) => error.message);
      expect(failure).to.include("strict mode prohibits default provider");
    } finally {
      fs.writeFileSync(program, original);
    }
    await cli.run("preview", "--expect-no-changes");
  });

  it("after a change to the service's code, `pulumi up` pushes a new digest and rolls the pods to it", async function () {
    const before = await cluster.registryDigest("hit-counter", "dev");
    fs.appendFileSync(path.join(project.dir, "service", "src", "server.ts"), `\n// e2e rebuild ${Date.now()}\n`);
    expect(changes(await cli.json<Preview>("preview"))).to.deep.equal([
      "update docker:index/image:Image hit-counter",
      "update kubernetes:apps/v1:Deployment hit-counter",
    ]);
    await timed("pulumi up (service code changed)", "up", "--yes");
    const after = await cluster.registryDigest("hit-counter", "dev");
    expect(after).not.to.equal(before);
    const reference = `${cluster.registry}/hit-counter@${after}`;
    expect(await deployedImages()).to.deep.equal([reference]);
    await eventually("every backend pod to run the new digest", async () => {
      const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: backendSelector });
      const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
      return live.length > 0 && live.every((p) => p.spec?.containers[0].image === reference && p.status?.phase === "Running") ? true : undefined;
    });
  });

  it("the policy pack refuses an image tag `latest` in monitoringChartValues, which the config accepts", async function () {
    await cli.run("config", "set", "monitoringEnabled", "true");
    await cli.run("config", "set", "chartRepository", cluster.chartRepository);
    await cli.run("config", "set", "monitoringImageRegistry", cluster.registry);
    await cli.run("config", "set", "monitoringAdmissionWebhooks", "false");
    await cli.run("config", "set", "--path", "monitoringChartValues.grafana.image.tag", "latest");
    await cli.run("preview");
    const refused = await cli.run("preview", "--policy-pack", "policy").then(() => "", (error: Error) => error.message);
    expect(refused).to.include('Helm value grafana.image.tag is "latest": use a digest (repository@sha256:...) or a tag naming an x.y.z release');
    expect(refused).to.match(/images-pinned \(mandatory\)|mandatory.*images-pinned|images-pinned.*mandatory/s);
    await cli.run("config", "rm", "monitoringChartValues");
    await cli.run("config", "set", "monitoringEnabled", "false");
    await cli.run("preview", "--expect-no-changes", "--policy-pack", "policy");
  });

  it("`pulumi destroy` removes what it created, and `pulumi stack rm` the stack", async function () {
    await timed("pulumi destroy", "destroy", "--yes");
    expect(await cluster.namespaceExists(namespace)).to.equal(false);
    await cli.run("stack", "rm", "--yes", "dev");
    expect(await cli.json<unknown[]>("stack", "ls")).to.deep.equal([]);
  });

  it("previews the prod stack file against the local cluster as a clean plan", async function () {
    await cli.run("stack", "init", "prod");
    await cli.run("config", "set", "--secret", "registryPassword", registryPassword);
    const wrongCluster = await cli.run("preview").then(() => "", (error: Error) => error.message);
    expect(wrongCluster).to.include(`Invalid config hitcounter:kubeContext: expected a context of your kubeconfig (${cluster.context}), got "prod"`);
    await cli.run("config", "set", "kubeContext", cluster.context);
    // A cluster without a StorageClass: the persistent Redis would stay Pending, so preview stops.
    const noStorage = await cli.run("preview").then(() => "", (error: Error) => error.message);
    expect(noStorage).to.include('Invalid config hitcounter:redisStorageClass: expected a StorageClass (none) because the cluster has no default one');
    await cli.run("config", "set", "redisPersistence", "false");
    await cli.run("config", "set", "protectRedisData", "false");
    // Prod's replicated Redis needs its volumes too: one Redis on ephemeral storage, then.
    const noVolumes = await cli.run("preview").then(() => "", (error: Error) => error.message);
    expect(noVolumes).to.include('Invalid config hitcounter:redisPersistence: expected true while hitcounter:redisReplicas is above 0');
    await cli.run("config", "set", "redisReplicas", "0");
    // The chart from the loopback repository, its images from the local mirror: nothing here reaches the internet.
    await cli.run("config", "set", "chartRepository", cluster.chartRepository);
    await cli.run("config", "set", "monitoringImageRegistry", cluster.registry);
    await cli.run("config", "set", "monitoringAdmissionWebhooks", "false");
    const planned = changes(await cli.json<Preview>("preview"));
    expect(planned).to.include.members([
      "create kubernetes:core/v1:Namespace hitcounter",
      "create docker:index/image:Image hit-counter",
      "create kubernetes:core/v1:Secret registry-pull",
      "create kubernetes:apps/v1:Deployment hit-counter",
      "create kubernetes:core/v1:Service hit-counter",
      "create kubernetes:policy/v1:PodDisruptionBudget hit-counter",
      "create kubernetes:autoscaling/v2:HorizontalPodAutoscaler hit-counter",
      "create kubernetes:helm.sh/v3:Release kube-prometheus-stack",
    ]);
    expect(planned.filter((step) => !step.startsWith("create "))).to.deep.equal([]);
    // The image's digest is not known before the build: the rules reading it report "can't run during
    // preview" as advisory and run at `up`; nothing mandatory is violated.
    const checked = (await cli.run("preview", "--policy-pack", "policy")).stdout;
    expect(checked).to.match(/Policies:\s+\S+ hit-counter@v\S+ \(local: policy\)/);
    expect(checked).not.to.include("[mandatory]");
    await cli.run("stack", "rm", "--yes", "prod");
  });
});
