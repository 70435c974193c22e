// A registry that requires a login, as a cloud's private registry does (scripts/cluster/cluster.sh runs one on
// loopback with htpasswd), pulled from by the real node's kubelet and containerd: a pod without
// credentials is refused, and the stack's pods pull with the dockerconfigjson Secret the program makes
// from registryUsername and registryPassword. Each `it` stands on the one before it (--bail).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { Stack } from "@pulumi/pulumi/automation";
import { expect } from "chai";
import { eventually, LocalCluster } from "../support/local-cluster";
import { standInImages } from "../support/standins";
import { E2eProject } from "../support/e2e-project";
import { realNode } from "./support/figures";

const namespace = "hitcounter-private";
const probeNamespace = "pull-without-login";

describe("real node: a registry that requires a login, pulled from with the stack's pull secret", function () {
  this.timeout(900_000);
  let cluster: LocalCluster;
  let project: E2eProject;
  let stack: Stack | undefined;
  let image: string;
  let dockerConfig: string;

  before(async function () {
    cluster = new LocalCluster();
    await realNode(cluster);
    project = E2eProject.create(cluster.kubeconfig);
    // The login stays in a Docker config of this suite's own, not in the host's.
    dockerConfig = fs.mkdtempSync(path.join(os.tmpdir(), "hitcounter-docker-"));
    const docker = (...args: string[]) => execFileSync("docker", ["--config", dockerConfig, ...args], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    const local = await cluster.publishService(path.join(project.dir, "service"), "private-source");
    const target = `${cluster.privateRegistry.address}/hit-counter:private`;
    docker("tag", local.replace(/@sha256:.*/, ":private-source"), target);
    execFileSync("docker", ["--config", dockerConfig, "login", "--username", cluster.privateRegistry.user, "--password-stdin", cluster.privateRegistry.address], {
      input: cluster.privateRegistry.password,
      stdio: ["pipe", "ignore", "ignore"],
    });
    docker("push", "--quiet", target);
    const digest = docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", target)
      .split("\n")
      .find((reference) => reference.startsWith(`${cluster.privateRegistry.address}/`));
    if (!digest) throw new Error(`docker pushed ${target} but reports no digest for it`);
    image = digest;
  });

  after(async function () {
    if (stack) await stack.destroy().catch(() => undefined);
    await cluster?.core.deleteNamespace({ name: probeNamespace }).catch(() => undefined);
    project?.remove();
    fs.rmSync(dockerConfig, { recursive: true, force: true });
  });

  it("refuses a pod without the login: the kubelet's pull gets 401 Unauthorized", async function () {
    await cluster.core.createNamespace({ body: { metadata: { name: probeNamespace } } });
    await cluster.core.createNamespacedPod({
      namespace: probeNamespace,
      body: { metadata: { name: "anonymous" }, spec: { nodeName: "hitcounter-node", containers: [{ name: "hit-counter", image }] } },
    });
    const message = await eventually("the anonymous pull to fail", async () => {
      const pod = await cluster.core.readNamespacedPod({ name: "anonymous", namespace: probeNamespace });
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return waiting && ["ErrImagePull", "ImagePullBackOff"].includes(waiting.reason ?? "") && waiting.message ? waiting.message : undefined;
    });
    expect(message).to.match(/401 Unauthorized/);
  });

  it("`pulumi up` with registryUsername and registryPassword runs the backend from it, Ready on the real node", async function () {
    stack = await project.stack("private", {
      kubeContext: cluster.context,
      namespace,
      image,
      registryUsername: cluster.privateRegistry.user,
      serviceType: "ClusterIP",
      redisImage: await cluster.pushImage(standInImages().REDIS_IMAGE, "redis", "bookworm"),
      monitoringEnabled: false,
    });
    await stack.setConfig("hitcounter:registryPassword", { value: cluster.privateRegistry.password, secret: true });
    await stack.up();
    const secret = await cluster.core.readNamespacedSecret({ name: "registry-pull", namespace });
    expect(secret.type).to.equal("kubernetes.io/dockerconfigjson");
    const { items } = await cluster.core.listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/name=hit-counter" });
    expect(items).to.have.lengthOf(1);
    const [pod] = items;
    expect(pod.spec?.imagePullSecrets).to.deep.equal([{ name: "registry-pull" }]);
    expect([pod.spec?.nodeName, pod.spec?.containers[0].image, pod.status?.phase]).to.deep.equal(["hitcounter-node", image, "Running"]);
    expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).to.equal("True");
  });
});
