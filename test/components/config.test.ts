// Stack configuration: each invalid value stops the program before any resource, with one message
// naming the key and the expected form; each switch changes the graph as documented.
import { expect } from "chai";
import { type ConfigValue, declaredOfType, declaredResource, isSecretInput, rejectedConfig, runProgram } from "../support/pulumi-mocks";
import { resourceType } from "../support/resource-types";

const invalid: { config: Record<string, ConfigValue>; message: string }[] = [
  {
    config: { kubeContext: "" },
    message: 'Invalid config hitcounter:kubeContext: expected the kubeconfig context of this stack\'s cluster (one of `kubectl config get-contexts -o name`), got ""',
  },
  {
    config: { protectRedisData: true },
    message: 'Invalid config hitcounter:protectRedisData: expected false while hitcounter:redisPersistence is false (there is no volume to protect), got "true"',
  },
  {
    config: { monitoringExistingRelease: "platform-kps" },
    message: 'Invalid config hitcounter:monitoringNamespace: expected the namespace of the release hitcounter:monitoringExistingRelease names (`helm list -A`), got ""',
  },
  {
    config: { monitoringExistingRelease: "platform-kps", monitoringNamespace: "observability", chartPath: "/charts/kps" },
    message: 'Invalid config hitcounter:chartPath: expected nothing with hitcounter:monitoringExistingRelease: the existing release owns it, got "<set>"',
  },
  {
    config: { namespace: "hitcounter-development-eu" },
    message: 'Invalid config hitcounter:namespace: expected at most 22 characters with monitoring on: the release is named <namespace>-kps, and the chart truncates its names to 26, got "hitcounter-development-eu"',
  },
  {
    config: { imagePlatform: "amd64" },
    message: 'Invalid config hitcounter:imagePlatform: expected an os/arch platform such as linux/amd64, or empty for the nodes\' own, got "amd64"',
  },
  {
    config: { minReplicas: 3, maxReplicas: 2 },
    message: 'Invalid config hitcounter:maxReplicas: expected an integer >= hitcounter:minReplicas (3), got "2"',
  },
  {
    config: { minReplicas: 0 },
    message: 'Invalid config hitcounter:minReplicas: expected an integer from 1 to 1000, got "0"',
  },
  {
    config: { cpuTargetUtilization: 150 },
    message: 'Invalid config hitcounter:cpuTargetUtilization: expected an integer percentage from 1 to 100, or 0 to remove the metric, got "150"',
  },
  {
    config: { memoryTargetUtilization: -5 },
    message: 'Invalid config hitcounter:memoryTargetUtilization: expected an integer percentage from 1 to 100, or 0 to remove the metric, got "-5"',
  },
  {
    config: { cpuRequest: "100 millicores" },
    message: 'Invalid config hitcounter:cpuRequest: expected a CPU quantity such as 100m or 0.5, got "100 millicores"',
  },
  {
    config: { memoryLimit: "256MB" },
    message: 'Invalid config hitcounter:memoryLimit: expected a memory quantity such as 128Mi or 1Gi, got "256MB"',
  },
  {
    config: { cpuLimit: "50m" },
    message: 'Invalid config hitcounter:cpuLimit: expected a CPU quantity >= hitcounter:cpuRequest (100m), got "50m"',
  },
  {
    config: { memoryRequest: "1Gi" },
    message: 'Invalid config hitcounter:memoryLimit: expected a memory quantity >= hitcounter:memoryRequest (1Gi), got "256Mi"',
  },
  {
    config: { redisCpuLimit: "0.01" },
    message: 'Invalid config hitcounter:redisCpuLimit: expected a CPU quantity >= hitcounter:redisCpuRequest (50m), got "0.01"',
  },
  {
    config: { serviceType: "Ingress" },
    message: 'Invalid config hitcounter:serviceType: expected one of ClusterIP, NodePort, LoadBalancer, got "Ingress"',
  },
  {
    config: { redisPersistence: true, redisAppendFsync: "no" },
    message: 'Invalid config hitcounter:redisAppendFsync: expected one of everysec, always, got "no"',
  },
  {
    config: { redisMode: "managed" },
    message: 'Invalid config hitcounter:redisMode: expected one of in-cluster, external, got "managed"',
  },
  {
    config: { redisHost: "redis.example.com" },
    message: 'Invalid config hitcounter:redisHost: expected nothing while hitcounter:redisMode is in-cluster (the stack\'s own Redis has a generated password and no TLS), got "<set>"',
  },
  {
    config: { redisMode: "external", redisPassword: "token" },
    message: 'Invalid config hitcounter:redisHost: expected the host name or IP address of the external Redis (e.g. its primary endpoint), got ""',
  },
  {
    config: { redisMode: "external", redisHost: "redis.example.com" },
    message: 'Invalid config hitcounter:redisPassword: expected the external Redis\'s password or token, set with `pulumi config set --secret redisPassword`, got ""',
  },
  {
    config: { redisMode: "external", redisHost: "redis.example.com", redisPassword: "token", redisPersistence: true },
    message: 'Invalid config hitcounter:redisPersistence: expected false while hitcounter:redisMode is external (the external Redis keeps the data), got "true"',
  },
  {
    config: { redisReplicas: 1, redisPersistence: true },
    message: 'Invalid config hitcounter:redisReplicas: expected 0, or 2 to 6 (a failover needs a majority of the Sentinels, one per Redis pod), got "1"',
  },
  {
    config: { redisReplicas: 2 },
    message: 'Invalid config hitcounter:redisPersistence: expected true while hitcounter:redisReplicas is above 0 (a restarted primary without its data would empty its replicas), got "false"',
  },
  {
    config: { redisReplicas: 2, redisPersistence: true, redisMinReplicasToWrite: 3 },
    message: 'Invalid config hitcounter:redisMinReplicasToWrite: expected an integer from 0 to hitcounter:redisReplicas (2), got "3"',
  },
  {
    config: { redisMinReplicasToWrite: 1 },
    message: 'Invalid config hitcounter:redisMinReplicasToWrite: expected 0 while hitcounter:redisReplicas is 0, got "1"',
  },
  {
    config: { redisMode: "external", redisHost: "redis.example.com", redisPassword: "token", redisReplicas: 2 },
    message: 'Invalid config hitcounter:redisReplicas: expected 0 while hitcounter:redisMode is external (the external Redis runs its own replicas), got "2"',
  },
  {
    config: { redisMode: "external", redisHost: "redis.example.com", redisPassword: "token", redisPort: 0 },
    message: 'Invalid config hitcounter:redisPort: expected an integer from 1 to 65535, got "0"',
  },
  {
    config: { redisMode: "external", redisHost: "redis.example.com", redisPassword: "token", redisTls: false, redisTlsCaBundle: "-----BEGIN CERTIFICATE-----" },
    message: 'Invalid config hitcounter:redisTlsCaBundle: expected nothing while hitcounter:redisTls is false, got "<set>"',
  },
  // A truncated certificate, and a private key pasted instead of a certificate (never shown).
  ...["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----"].map((bundle) => ({
    config: { redisMode: "external", redisHost: "redis.example.com", redisPassword: "token", redisTlsCaBundle: bundle },
    message: 'Invalid config hitcounter:redisTlsCaBundle: expected PEM certificates (-----BEGIN CERTIFICATE-----), each complete, got "<not shown>"',
  })),
  {
    config: { registryServer: "" },
    message: 'Invalid config hitcounter:registryServer: expected a registry to push to (e.g. localhost:5000) when hitcounter:image is not set, got ""',
  },
  {
    config: { registryUsername: "ci-bot" },
    message: 'Invalid config hitcounter:registryPassword: expected a secret password or token when hitcounter:registryUsername is set, got ""',
  },
  {
    config: { image: "localhost:5000/hit-counter:latest" },
    message: 'Invalid config hitcounter:image: expected an image by digest (repository@sha256:<64 hex digits>), got "localhost:5000/hit-counter:latest"',
  },
  {
    config: { redisImage: "redis:7" },
    message: 'Invalid config hitcounter:redisImage: expected an image pinned to a version (redis:7.4.2-alpine) or a digest (redis@sha256:...), got "redis:7"',
  },
  {
    config: { namespace: "Hit_Counter" },
    message: `Invalid config hitcounter:namespace: expected a DNS label (lower-case letters, digits and '-', at most 63), got "Hit_Counter"`,
  },
  {
    config: { chartVersion: "^81" },
    message: 'Invalid config hitcounter:chartVersion: expected an exact version x.y.z, got "^81"',
  },
  {
    config: { monitoringEnabled: "yes" },
    message: 'Invalid config hitcounter:monitoringEnabled: expected one of true, false, got "yes"',
  },
  {
    config: { grafanaEnabled: "off" },
    message: 'Invalid config hitcounter:grafanaEnabled: expected one of true, false, got "off"',
  },
  {
    config: { monitoringControlPlane: "managed" },
    message: 'Invalid config hitcounter:monitoringControlPlane: expected one of true, false, got "managed"',
  },
  ...["https://registry.example.com", "registry.example.com/mirror/", "registry.example.com/Mirror", "registry example.com"].map((registry) => ({
    config: { monitoringImageRegistry: registry },
    message: `Invalid config hitcounter:monitoringImageRegistry: expected a registry as host[:port][/path] without a scheme, e.g. 127.0.0.1:5000 or registry.example.com/mirror, got "${registry}"`,
  })),
  ...[
    [["prometheus"], "a list"],
    ["retention: 30d", "a string"],
    [30, "a number"],
  ].map(([values, kind]) => ({
    config: { monitoringChartValues: values as ConfigValue },
    message: `Invalid config hitcounter:monitoringChartValues: expected a mapping of chart values, got "<${kind}>"`,
  })),
  // A credential is named by where it is, never shown.
  ...[
    [{ grafana: { adminPassword: "hunter2" } }, "grafana.adminPassword"],
    [{ alertmanager: { config: { receivers: [{ name: "ops", slack_configs: [{ api_url_file: "/etc/x" }] }, { name: "pd", pagerduty_configs: [{ routing_key_file: "/etc/k", http_config: { bearer_token: "hunter2" } }] }] } } }, "alertmanager.config.receivers[1].pagerduty_configs[0].http_config.bearer_token"],
    // Alertmanager's Slack api_url is the credential itself, as a URL with a password is.
    [{ alertmanager: { config: { global: { slack_api_url: "https://hooks.example/T0/B0/x" } } } }, "alertmanager.config.global.slack_api_url"],
    [{ prometheus: { prometheusSpec: { remoteWrite: [{ url: "https://writer:s3cret@metrics.example/push" }] } } }, "prometheus.prometheusSpec.remoteWrite[0].url"],
    [{ grafana: { "grafana.ini": { security: { secret_apiKey: "hunter2" } } } }, "grafana.grafana.ini.security.secret_apiKey"],
  ].map(([values, at]) => ({
    config: { monitoringChartValues: values as ConfigValue },
    message: `Invalid config hitcounter:monitoringChartValues: expected no plain-text credential (put it in a Kubernetes Secret the chart reads, e.g. grafana.admin.existingSecret), got "<a value at ${at}, not shown>"`,
  })),
  // What the stack's own keys set cannot be set around them.
  ...[
    [{ grafana: { enabled: true } }, "grafana.enabled", "grafanaEnabled"],
    [{ grafana: { admin: { existingSecret: "other" } } }, "grafana.admin", "grafanaAdminUser"],
    [{ global: { imageRegistry: "other.example.com" } }, "global.imageRegistry", "monitoringImageRegistry"],
  ].map(([values, at, key]) => ({
    config: { monitoringChartValues: values as ConfigValue },
    message: `Invalid config hitcounter:monitoringChartValues: expected no ${at as string}: the stack sets it from hitcounter:${key as string}, got "<a value at ${at as string}>"`,
  })),
];

describe("stack configuration", () => {
  for (const { config, message } of invalid) {
    it(`refuses ${JSON.stringify(config)} before declaring anything`, async () => {
      expect(await rejectedConfig("dev", { config })).to.deep.equal({ message, declared: 0 });
    });
  }

  it("accepts quantities in other units when the limit still covers the request", async () => {
    const run = await runProgram("dev", { config: { cpuRequest: "0.1", cpuLimit: "1", memoryRequest: "128M", memoryLimit: "1Gi" } });
    expect(declaredResource(run, resourceType.deployment, "hit-counter").spec.template.spec.containers[0].resources).to.deep.equal({
      requests: { cpu: "0.1", memory: "128M" },
      limits: { cpu: "1", memory: "1Gi" },
    });
  });

  it("with monitoring off, installs no Helm release, monitors, rules or dashboard", async () => {
    const run = await runProgram("dev", { config: { monitoringEnabled: false } });
    const types = run.resources.map((r) => r.type);
    expect(types).not.to.include(resourceType.release);
    expect(types).not.to.include(resourceType.configMap);
    expect(types.filter((t) => t.includes("monitoring.coreos.com"))).to.deep.equal([]);
    expect(run.outputs.grafanaPortForward).to.equal(undefined);
  });

  it("with a local chart directory, installs from it instead of the repository", async () => {
    const run = await runProgram("dev", { config: { chartPath: "/charts/kube-prometheus-stack" } });
    const release = declaredResource(run, resourceType.release, "kube-prometheus-stack");
    expect(release.chart).to.equal("/charts/kube-prometheus-stack");
    expect(release).not.to.have.any.keys("version", "repositoryOpts");
  });

  it("with one utilisation target at 0, scales on the other metric only", async () => {
    const run = await runProgram("dev", { config: { cpuTargetUtilization: 0 } });
    const hpa = declaredResource(run, resourceType.hpa, "hit-counter");
    expect(hpa.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name)).to.deep.equal(["memory"]);
  });

  it("with both targets at 0, runs minReplicas replicas and no HPA", async () => {
    const run = await runProgram("dev", { config: { cpuTargetUtilization: 0, memoryTargetUtilization: 0, minReplicas: 3, maxReplicas: 3 } });
    expect(declaredOfType(run, resourceType.hpa)).to.deep.equal([]);
    expect(declaredResource(run, resourceType.deployment, "hit-counter").spec.replicas).to.equal(3);
    expect(run.outputs.hpaName).to.equal(undefined);
  });

  it("with a prebuilt image, builds nothing and deploys that digest", async () => {
    const image = `registry.example/hit-counter@sha256:${"0f".repeat(32)}`;
    const run = await runProgram("dev", { config: { image, registryServer: "" } });
    expect(declaredOfType(run, resourceType.image)).to.deep.equal([]);
    expect(declaredResource(run, resourceType.deployment, "hit-counter").spec.template.spec.containers[0].image).to.equal(image);
  });

  it("builds service/ for the configured platform with the build args, tagged with the stack name", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const run = await runProgram("dev", { config: { imageBuildArgs: ["NODE_IMAGE=node:24.11.0-alpine", `NPM_CA_PEM=${pem}`] } });
    const image = declaredResource(run, resourceType.image, "hit-counter");
    expect(image.imageName).to.equal("localhost:5000/hit-counter:dev");
    expect(image.build).to.deep.include({ platform: "linux/amd64", args: { NODE_IMAGE: "node:24.11.0-alpine", NPM_CA_PEM: pem } });
    expect(image.build.context).to.match(/\/service$/);
    expect(image).not.to.have.property("registry");
  });

  it("logs in to the registry host with the secret password when a user is set", async () => {
    const run = await runProgram("prod", { config: { registryPassword: "registry-token" }, secretKeys: ["registryPassword"] });
    const image = declaredResource(run, resourceType.image, "hit-counter");
    expect(image.registry).to.deep.equal({ server: "ghcr.io", username: "example-org-ci", password: "registry-token" });
    const raw = run.resources.find((r) => r.type === resourceType.image)?.inputs.registry as Record<string, unknown>;
    expect(isSecretInput(raw), "the registry login, password included, is a Pulumi secret").to.equal(true);
  });
});
