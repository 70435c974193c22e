import * as pulumi from "@pulumi/pulumi";
// The service owns its log levels and what a CA bundle must hold; the stack passes them through
// LOG_LEVEL and REDIS_TLS_CA_FILE. A module with no dependencies beyond Node's own.
import { isCertificateBundle, type LogLevel, logLevels } from "../service/src/config";
import { type HelmValues, isMap, plainTextCredentials } from "./monitoring/helm-values";
import { exactVersion, pinnedImage } from "./pins";

// The stack's settings, read and validated in one place before any resource is declared.
// Every key is declared (type, default, description) in Pulumi.yaml; this module turns the raw
// strings into a typed object and throws one message naming the first bad key and its expected form.

export const serviceTypes = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
export type ServiceType = (typeof serviceTypes)[number];


/** Requests and limits of one container, as Kubernetes quantities. */
export interface ContainerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** A login to the registry that holds the backend image, used to push it and to pull it. */
export interface RegistryCredentials {
  /** The registry host[:port], without a repository path (ghcr.io, not ghcr.io/acme). */
  server: string;
  username: string;
  password: pulumi.Output<string>;
}

/** Where the backend image comes from: built from service/ and pushed, or prebuilt by digest. */
export type ImageSource = {
  /** Absent for a registry without authentication (a laptop's local registry). */
  credentials?: RegistryCredentials;
} & (
  | { kind: "prebuilt"; reference: string }
  | {
      kind: "build";
      registryServer: string;
      repository: string;
      /** os/arch; undefined: the architecture of the cluster's nodes (components/cluster.ts). */
      platform?: string;
      buildArgs: Record<string, string>;
    }
);

/** The HPA's settings; its minimum is StackConfig.minReplicas. */
export interface Autoscaling {
  maxReplicas: number;
  /** Percent of the request; undefined when the metric is removed. */
  cpuTargetUtilization?: number;
  memoryTargetUtilization?: number;
  scaleUpStabilizationSeconds: number;
  scaleUpMaxPods: number;
  scaleDownStabilizationSeconds: number;
  scaleDownMaxPercent: number;
}

/** Where Redis lives: the stack's own in the cluster, or an external one (a managed Redis) it only connects to. */
export const redisModes = ["in-cluster", "external"] as const;

export type RedisSettings = InClusterRedisSettings | ExternalRedisSettings;

export interface InClusterRedisSettings {
  mode: "in-cluster";
  image: string;
  resources: ContainerResources;
  /**
   * Present when Redis keeps its data on a PersistentVolumeClaim. `protect`: the namespace that holds
   * the claim is a protected resource, so no `pulumi destroy` deletes the data with it.
   */
  persistence?: { storageSize: string; storageClass?: string; protect: boolean; appendfsync: AppendFsync };
  /**
   * Present when Redis runs as a primary with `replicas` replicas and a Sentinel beside each, which
   * promote a replica when the primary is lost. `minReplicasToWrite`: the primary refuses writes
   * unless that many replicas were in touch within the last 10 s.
   */
  replication?: { replicas: number; minReplicasToWrite: number };
}

export interface ExternalRedisSettings {
  mode: "external";
  host: string;
  port: number;
  /** Present when the connection is TLS; `caBundle`: PEM certificates to trust instead of Node's public CAs. */
  tls?: { caBundle?: string };
  password: pulumi.Output<string>;
  /** The data lives outside the stack: no volume of ours to check or protect, no replicas of ours. */
  persistence?: undefined;
  replication?: undefined;
}

/** When Redis fsyncs its append-only file: once a second, or before it answers each write. */
export const appendFsyncPolicies = ["everysec", "always"] as const;
export type AppendFsync = (typeof appendFsyncPolicies)[number];

/**
 * Where alerts go, read from one URL. `credential` is the part that must stay secret (the whole URL,
 * a routing key or a password); Alertmanager reads it from a mounted Secret, never from Helm values.
 */
export type AlertReceiver = { credential: pulumi.Output<string> } & (
  | { kind: "webhook" }
  | { kind: "slack" }
  | { kind: "pagerduty" }
  | { kind: "email"; smarthost: string; from: string; to: string; username?: string }
);

export interface MonitoringSettings {
  /** Where the release runs, and the dashboard ConfigMap with it. */
  namespace: string;
  /** The Helm release's name: its Prometheus selects objects labelled `release: <name>`. */
  release: string;
  /** Undefined: the release is an existing one (a platform team's); the stack adds only its ServiceMonitor, rules and dashboard. */
  install?: ChartInstall;
}

/** How the stack installs kube-prometheus-stack itself. */
export interface ChartInstall {
  chart: { path: string } | { repository: string; version: string };
  /** Undefined when the chart's Grafana is left out: no admin Secret either; the dashboard ConfigMap stays. */
  grafana?: { adminUser: string };
  /** Undefined: alerts are only shown in Alertmanager's UI. */
  alertReceiver?: AlertReceiver;
  /** false drops the chart's admission webhook and the operator's TLS, which only serves it. */
  admissionWebhooks: boolean;
  /** A registry mirroring every image of the chart, host[:port][/path]; undefined: their own registries. */
  imageRegistry?: string;
  /** false: no scrapes, default rules or dashboards for kube-controller-manager, the scheduler, etcd, kube-proxy. */
  controlPlane: boolean;
  /** The stack's own chart values, merged over the program's. */
  chartValues: HelmValues;
}

export interface StackConfig {
  /** The kubeconfig context of the stack's cluster: the only cluster it ever deploys to. */
  kubeContext: string;
  namespace: string;
  image: ImageSource;
  logLevel: LogLevel;
  serviceType: ServiceType;
  resources: ContainerResources;
  /** Undefined when both utilisation targets are removed: no HPA, minReplicas fixed replicas. */
  autoscaling?: Autoscaling;
  minReplicas: number;
  redis: RedisSettings;
  /** Undefined when monitoring is switched off for the stack. */
  monitoring?: MonitoringSettings;
}

/** Reads and validates the current stack's configuration; throws on the first invalid key. */
export function loadStackConfig(): StackConfig {
  const read = new ConfigReader(new pulumi.Config());
  const minReplicas = read.integer("minReplicas", 1, 1000);
  const maxReplicas = read.integer("maxReplicas", minReplicas, 1000, `an integer >= ${read.key("minReplicas")} (${minReplicas})`);
  const cpuTargetUtilization = read.utilisation("cpuTargetUtilization");
  const memoryTargetUtilization = read.utilisation("memoryTargetUtilization");
  const autoscaled = cpuTargetUtilization !== undefined || memoryTargetUtilization !== undefined;
  const namespace = read.dnsLabel("namespace");
  return {
    kubeContext: read.matching("kubeContext", /\S/, "the kubeconfig context of this stack's cluster (one of `kubectl config get-contexts -o name`)"),
    namespace,
    image: readImageSource(read),
    logLevel: read.oneOf("logLevel", logLevels),
    serviceType: read.oneOf("serviceType", serviceTypes),
    resources: read.resources("cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit"),
    minReplicas,
    autoscaling: autoscaled
      ? {
          maxReplicas,
          cpuTargetUtilization,
          memoryTargetUtilization,
          scaleUpStabilizationSeconds: read.integer("scaleUpStabilizationSeconds", 0, 3600),
          scaleUpMaxPods: read.integer("scaleUpMaxPods", 1, 1000),
          scaleDownStabilizationSeconds: read.integer("scaleDownStabilizationSeconds", 0, 3600),
          scaleDownMaxPercent: read.integer("scaleDownMaxPercent", 1, 100),
        }
      : undefined,
    redis: readRedis(read),
    monitoring: read.boolean("monitoringEnabled") ? readMonitoring(read, namespace) : undefined,
  };
}

// Keys of one mode are refused in the other, where they would be silently ignored (those with
// defaults, such as redisPort or redisImage, cannot be told apart from unset ones and are ignored).
const externalRedisKeys = ["redisHost", "redisTlsCaBundle", "redisPassword"];

function readRedis(read: ConfigReader): RedisSettings {
  const mode = read.oneOf("redisMode", redisModes);
  if (mode === "in-cluster") {
    const external = externalRedisKeys.find((key) => read.optionalString(key) !== undefined);
    if (external !== undefined) throw read.invalid(external, `nothing while ${read.key("redisMode")} is in-cluster (the stack's own Redis has a generated password and no TLS)`, "<set>");
    const persistence = readPersistence(read);
    return {
      mode,
      image: read.pinnedImage("redisImage"),
      resources: read.resources("redisCpuRequest", "redisCpuLimit", "redisMemoryRequest", "redisMemoryLimit"),
      persistence,
      replication: readReplication(read, persistence),
    };
  }
  // Read only to refuse anything but 0.
  read.integer("redisReplicas", 0, 0, `0 while ${read.key("redisMode")} is external (the external Redis runs its own replicas)`);
  if (read.boolean("redisPersistence")) throw read.invalid("redisPersistence", `false while ${read.key("redisMode")} is external (the external Redis keeps the data)`, "true");
  const host = read.matching("redisHost", /^[A-Za-z0-9.-]+$/, "the host name or IP address of the external Redis (e.g. its primary endpoint)");
  const port = read.integer("redisPort", 1, 65535);
  const password = read.secret("redisPassword");
  if (password === undefined) throw read.invalid("redisPassword", "the external Redis's password or token, set with `pulumi config set --secret redisPassword`", "");
  const caBundle = read.optionalString("redisTlsCaBundle");
  if (!read.boolean("redisTls")) {
    if (caBundle !== undefined) throw read.invalid("redisTlsCaBundle", `nothing while ${read.key("redisTls")} is false`, "<set>");
    return { mode, host, port, password };
  }
  if (caBundle !== undefined && !isCertificateBundle(caBundle)) {
    // Not shown: a private key pasted by mistake would be.
    throw read.invalid("redisTlsCaBundle", "PEM certificates (-----BEGIN CERTIFICATE-----), each complete", "<not shown>");
  }
  return { mode, host, port, tls: { caBundle }, password };
}

// One Sentinel per Redis pod, and a failover needs a majority of them: with one replica, losing the
// primary's pod leaves one Sentinel of two, which may not promote anyone.
function readReplication(read: ConfigReader, persistence: InClusterRedisSettings["persistence"]): InClusterRedisSettings["replication"] {
  const replicas = read.integer("redisReplicas", 0, 6);
  if (replicas === 0) {
    read.integer("redisMinReplicasToWrite", 0, 0, `0 while ${read.key("redisReplicas")} is 0`);
    return undefined;
  }
  if (replicas === 1) throw read.invalid("redisReplicas", "0, or 2 to 6 (a failover needs a majority of the Sentinels, one per Redis pod)", "1");
  // A primary without a volume that restarts before the Sentinels notice comes back empty, and its
  // replicas then copy the empty data set: Redis's replication docs warn of exactly this.
  if (!persistence) throw read.invalid("redisPersistence", `true while ${read.key("redisReplicas")} is above 0 (a restarted primary without its data would empty its replicas)`, "false");
  return { replicas, minReplicasToWrite: read.integer("redisMinReplicasToWrite", 0, replicas, `an integer from 0 to ${read.key("redisReplicas")} (${replicas})`) };
}

function readPersistence(read: ConfigReader): InClusterRedisSettings["persistence"] {
  const protect = read.boolean("protectRedisData");
  if (!read.boolean("redisPersistence")) {
    if (protect) throw read.invalid("protectRedisData", `false while ${read.key("redisPersistence")} is false (there is no volume to protect)`, "true");
    return undefined;
  }
  return {
    storageSize: read.memory("redisStorageSize"),
    storageClass: read.optionalString("redisStorageClass"),
    protect,
    appendfsync: read.oneOf("redisAppendFsync", appendFsyncPolicies),
  };
}

// The chart names its cluster-wide objects (ClusterRoles, webhooks) after the release, truncated
// to 26 characters: two releases whose names share those are one to the API server.
const releaseNameLength = 26;

function readMonitoring(read: ConfigReader, appNamespace: string): MonitoringSettings {
  const existing = read.optionalString("monitoringExistingRelease");
  if (existing !== undefined) {
    const release = read.matching("monitoringExistingRelease", /^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/, "a Helm release name (`helm list -A`)");
    const namespace = read.optionalString("monitoringNamespace");
    if (namespace === undefined) {
      throw read.invalid("monitoringNamespace", `the namespace of the release ${read.key("monitoringExistingRelease")} names (\`helm list -A\`)`, "");
    }
    for (const key of ["alertWebhookUrl", "chartPath"]) {
      if (read.optionalString(key) !== undefined) throw read.invalid(key, `nothing with ${read.key("monitoringExistingRelease")}: the existing release owns it`, "<set>");
    }
    return { namespace: read.dnsLabel("monitoringNamespace"), release };
  }
  const namespace = read.optionalString("monitoringNamespace") === undefined ? `${appNamespace}-monitoring` : read.dnsLabel("monitoringNamespace");
  if (namespace.length > 63) throw read.invalid("monitoringNamespace", `a DNS label; the default, ${read.key("namespace")} + "-monitoring", is too long`, namespace);
  const release = `${appNamespace}-kps`;
  if (release.length > releaseNameLength) {
    throw read.invalid("namespace", `at most ${releaseNameLength - 4} characters with monitoring on: the release is named <namespace>-kps, and the chart truncates its names to ${releaseNameLength}`, appNamespace);
  }
  return {
    namespace,
    release,
    install: {
      chart: read.optionalString("chartPath")
        ? { path: read.string("chartPath") }
        : { repository: read.url("chartRepository"), version: read.semver("chartVersion") },
      grafana: read.boolean("grafanaEnabled") ? { adminUser: read.string("grafanaAdminUser") } : undefined,
      alertReceiver: readAlertReceiver(read),
      admissionWebhooks: read.boolean("monitoringAdmissionWebhooks"),
      imageRegistry: read.imageRegistry("monitoringImageRegistry"),
      controlPlane: read.boolean("monitoringControlPlane"),
      chartValues: read.chartValues("monitoringChartValues"),
    },
  };
}

function readImageSource(read: ConfigReader): ImageSource {
  const prebuilt = read.optionalString("image");
  if (prebuilt !== undefined) {
    if (!/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(prebuilt)) {
      throw read.invalid("image", "an image by digest (repository@sha256:<64 hex digits>)", prebuilt);
    }
    return { kind: "prebuilt", reference: prebuilt, credentials: readCredentials(read, registryHost(prebuilt)) };
  }
  const registryServer = read.optionalString("registryServer")?.replace(/\/+$/, "");
  if (registryServer === undefined) {
    throw read.invalid("registryServer", `a registry to push to (e.g. localhost:5000) when ${read.key("image")} is not set`, "");
  }
  const platform = read.optionalString("imagePlatform");
  return {
    kind: "build",
    registryServer,
    credentials: readCredentials(read, registryHost(`${registryServer}/`)),
    repository: read.string("imageRepository"),
    platform: platform && read.matching("imagePlatform", /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, "an os/arch platform such as linux/amd64, or empty for the nodes' own"),
    buildArgs: read.buildArgs("imageBuildArgs"),
  };
}

/** The registry of an image reference, as a Docker config's `auths` names it. */
function registryHost(reference: string): string {
  const [first, ...rest] = reference.split("/");
  // Docker's rule: a first component with a dot or a port, or localhost, is a registry; else Docker Hub.
  return rest.length && (/[.:]/.test(first) || first === "localhost") ? first : "docker.io";
}

function readCredentials(read: ConfigReader, server: string): RegistryCredentials | undefined {
  const username = read.optionalString("registryUsername");
  const password = read.secret("registryPassword");
  if (username !== undefined && password === undefined) {
    throw read.invalid("registryPassword", `a secret password or token when ${read.key("registryUsername")} is set`, "");
  }
  return username !== undefined && password !== undefined ? { server, username, password } : undefined;
}

const alertUrlForms =
  "an http(s):// webhook URL, https://hooks.slack.com/services/..., pagerduty://<routing key> or smtp://user:password@host:port?from=<address>&to=<address>";

function readAlertReceiver(read: ConfigReader): AlertReceiver | undefined {
  const raw = read.optionalString("alertWebhookUrl");
  if (raw === undefined) return undefined;
  // The value may carry a token: an error names the key and the expected form, never the value.
  const invalid = (expected: string) => read.invalid("alertWebhookUrl", expected, "<secret, not shown>");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(alertUrlForms);
  }
  switch (url.protocol) {
    case "http:":
    case "https:":
      return { kind: url.hostname === "hooks.slack.com" ? "slack" : "webhook", credential: pulumi.secret(raw) };
    case "pagerduty:": {
      // An Events API v2 integration key: 32 characters.
      const key = raw.slice("pagerduty://".length);
      if (!/^[A-Za-z0-9]{32}$/.test(key)) throw invalid("pagerduty://<the 32-character Events API v2 routing key>");
      return { kind: "pagerduty", credential: pulumi.secret(key) };
    }
    case "smtp:": {
      const address = /^[^\s@]+@[^\s@]+$/;
      const from = url.searchParams.get("from") ?? "";
      const to = url.searchParams.get("to") ?? "";
      if (!url.hostname || !address.test(from) || !address.test(to)) {
        throw invalid("smtp://[user:password@]host[:port]?from=<address>&to=<address>");
      }
      return {
        kind: "email",
        smarthost: `${url.hostname}:${url.port || "587"}`,
        from,
        to,
        username: url.username ? decodeURIComponent(url.username) : undefined,
        credential: pulumi.secret(decodeURIComponent(url.password)),
      };
    }
    default:
      throw invalid(alertUrlForms);
  }
}

// Kubernetes quantities, reduced to one unit so limits can be compared with requests.
const cpuQuantity = /^(\d+m|\d+(\.\d+)?)$/;
const memoryQuantity = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const memoryUnits: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

// host[:port][/path] as an image reference begins (the distribution reference grammar): DNS labels
// or an IPv4 address, an optional port, lower-case path components; no scheme, no trailing slash.
const registryForm =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

// Chart values the stack sets from its own keys: set through chart values they would bypass those keys'
// guarantees (Grafana behind the chart's public default password, images from another registry).
const ownedChartValues: Record<string, string> = {
  "grafana.enabled": "grafanaEnabled",
  "grafana.admin": "grafanaAdminUser",
  "global.imageRegistry": "monitoringImageRegistry",
};

function valueAt(values: HelmValues, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (isMap(node) ? node[key] : undefined), values);
}

/** What kind of JSON value `value` is, to name in an error without showing it. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  return value === null ? "null" : `a ${typeof value}`;
}

function millicores(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

function bytes(quantity: string): number {
  const [, amount, unit = ""] = memoryQuantity.exec(quantity) ?? [];
  return Number(amount) * memoryUnits[unit];
}

/** Typed, validating access to the project's config keys; every failure names the full key. */
class ConfigReader {
  constructor(private readonly config: pulumi.Config) {}

  key(name: string): string {
    return `${this.config.name}:${name}`;
  }

  invalid(name: string, expected: string, got: string): Error {
    return new Error(`Invalid config ${this.key(name)}: expected ${expected}, got "${got}"`);
  }

  optionalString(name: string): string | undefined {
    const value = this.config.get(name)?.trim();
    return value ? value : undefined;
  }

  string(name: string): string {
    return this.matching(name, /\S/, "a non-empty string");
  }

  matching(name: string, pattern: RegExp, expected: string): string {
    const value = this.config.get(name)?.trim() ?? "";
    if (!pattern.test(value)) throw this.invalid(name, expected, value);
    return value;
  }

  secret(name: string): pulumi.Output<string> | undefined {
    return this.optionalString(name) === undefined ? undefined : this.config.requireSecret(name);
  }

  boolean(name: string): boolean {
    return this.oneOf(name, ["true", "false"]) === "true";
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.config.get(name)?.trim() ?? "";
    if (!(allowed as readonly string[]).includes(value)) throw this.invalid(name, `one of ${allowed.join(", ")}`, value);
    return value as T;
  }

  integer(name: string, min: number, max: number, expected = `an integer from ${min} to ${max}`): number {
    const value = this.config.get(name)?.trim() ?? "";
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) throw this.invalid(name, expected, value);
    return parsed;
  }

  /** An HPA utilisation target: a percentage of the request, or 0 to drop the metric. */
  utilisation(name: string): number | undefined {
    const percent = this.integer(name, 0, 100, "an integer percentage from 1 to 100, or 0 to remove the metric");
    return percent === 0 ? undefined : percent;
  }

  dnsLabel(name: string): string {
    return this.matching(name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a DNS label (lower-case letters, digits and '-', at most 63)");
  }

  url(name: string): string {
    return this.matching(name, /^(https?|oci):\/\/\S+$/, "an http(s):// or oci:// URL");
  }

  semver(name: string): string {
    return this.matching(name, exactVersion, "an exact version x.y.z");
  }

  pinnedImage(name: string): string {
    return this.matching(name, pinnedImage, "an image pinned to a version (redis:7.4.2-alpine) or a digest (redis@sha256:...)");
  }

  cpu(name: string): string {
    return this.matching(name, cpuQuantity, "a CPU quantity such as 100m or 0.5");
  }

  memory(name: string): string {
    return this.matching(name, memoryQuantity, "a memory quantity such as 128Mi or 1Gi");
  }

  resources(cpuRequest: string, cpuLimit: string, memoryRequest: string, memoryLimit: string): ContainerResources {
    const requests = { cpu: this.cpu(cpuRequest), memory: this.memory(memoryRequest) };
    const limits = { cpu: this.cpu(cpuLimit), memory: this.memory(memoryLimit) };
    if (millicores(limits.cpu) < millicores(requests.cpu)) {
      throw this.invalid(cpuLimit, `a CPU quantity >= ${this.key(cpuRequest)} (${requests.cpu})`, limits.cpu);
    }
    if (bytes(limits.memory) < bytes(requests.memory)) {
      throw this.invalid(memoryLimit, `a memory quantity >= ${this.key(memoryRequest)} (${requests.memory})`, limits.memory);
    }
    return { requests, limits };
  }

  /** Optional; a registry to prefix image repositories with. */
  imageRegistry(name: string): string | undefined {
    const value = this.optionalString(name);
    if (value !== undefined && !registryForm.test(value)) {
      throw this.invalid(name, "a registry as host[:port][/path] without a scheme, e.g. 127.0.0.1:5000 or registry.example.com/mirror", value);
    }
    return value;
  }

  /** A mapping of Helm values. It may hold a secret by mistake: errors describe it, never show it. */
  chartValues(name: string): HelmValues {
    const raw = this.config.get(name) ?? "{}";
    let values: unknown;
    try {
      values = JSON.parse(raw);
    } catch {
      values = raw;
    }
    if (!isMap(values)) throw this.invalid(name, "a mapping of chart values", `<${kindOf(values)}>`);
    const [credential] = plainTextCredentials(values);
    if (credential !== undefined) {
      throw this.invalid(name, "no plain-text credential (put it in a Kubernetes Secret the chart reads, e.g. grafana.admin.existingSecret)", `<a value at ${credential}, not shown>`);
    }
    const owned = Object.keys(ownedChartValues).find((path) => valueAt(values, path) !== undefined);
    if (owned !== undefined) throw this.invalid(name, `no ${owned}: the stack sets it from ${this.key(ownedChartValues[owned])}`, `<a value at ${owned}>`);
    return values;
  }

  buildArgs(name: string): Record<string, string> {
    const entries = this.config.getObject<unknown>(name) ?? [];
    // A value may span lines: NPM_CA_PEM carries PEM certificates (service/Dockerfile).
    const expected = "a list of NAME=value strings";
    if (!Array.isArray(entries)) throw this.invalid(name, expected, JSON.stringify(entries));
    return Object.fromEntries(
      entries.map((entry: unknown) => {
        const match = typeof entry === "string" ? /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/s.exec(entry) : null;
        if (!match) throw this.invalid(name, expected, JSON.stringify(entries));
        return [match[1], match[2]];
      }),
    );
  }
}
