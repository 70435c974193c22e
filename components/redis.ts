import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { InClusterRedisSettings } from "./config";
import type { RedisConnection } from "./counter-app";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./pod-security";

export const redisPort = 6379;
// The official image's `redis` user; set explicitly because the image starts as root and drops later.
const redisUid = 999;

export interface RedisStoreArgs {
  namespace: pulumi.Input<string>;
  settings: InClusterRedisSettings;
  password: pulumi.Output<string>;
  /** Labels of the pods allowed to connect: the NetworkPolicy admits them and no one else. */
  clientLabels: Record<string, string>;
}

/** Redis with a generated password: Secret, Service, Deployment or StatefulSet, NetworkPolicy. */
export class RedisStore extends pulumi.ComponentResource {
  /** Its Service, and where clients read the password from (a secretKeyRef), never a copy of the value. */
  public readonly connection: RedisConnection;
  public static readonly podLabels = { "app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "store", "app.kubernetes.io/part-of": "hit-counter" };

  constructor(name: string, args: RedisStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:RedisStore", name, {}, opts);
    const { namespace, settings } = args;
    const metadata = { name, namespace, labels: RedisStore.podLabels };

    // The whole redis.conf is secret: it carries requirepass, which must stay out of the command
    // line (visible to `ps`) and out of the pod spec.
    const secret = new k8s.core.v1.Secret(
      name,
      {
        metadata: { ...metadata, name: `${name}-auth` },
        type: "Opaque",
        stringData: {
          password: args.password,
          "redis.conf": pulumi.interpolate`${redisConf(settings)}requirepass ${args.password}\n`,
        },
      },
      { parent: this },
    );

    const service = new k8s.core.v1.Service(
      name,
      {
        metadata,
        spec: {
          type: "ClusterIP",
          selector: RedisStore.podLabels,
          ports: [{ name: "redis", port: redisPort, targetPort: "redis" }],
        },
      },
      { parent: this },
    );
    this.connection = { host: service.metadata.name, port: redisPort, passwordSecret: { name: secret.metadata.name, key: "password" } };

    const podTemplate: k8s.types.input.core.v1.PodTemplateSpec = {
      metadata: { labels: RedisStore.podLabels },
      spec: {
        securityContext: restrictedPodSecurityContext(redisUid),
        automountServiceAccountToken: false,
        containers: [
          {
            name: "redis",
            image: settings.image,
            args: ["redis-server", "/etc/redis/redis.conf"],
            ports: [{ name: "redis", containerPort: redisPort }],
            env: [{ name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "password" } } }],
            resources: settings.resources,
            securityContext: restrictedContainerSecurityContext,
            readinessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 5, failureThreshold: 3 },
            livenessProbe: { tcpSocket: { port: "redis" }, initialDelaySeconds: 10, periodSeconds: 10 },
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "config", mountPath: "/etc/redis", readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: "config", secret: { secretName: secret.metadata.name, items: [{ key: "redis.conf", path: "redis.conf" }] } },
          ...(settings.persistence ? [] : [{ name: "data", emptyDir: {} }]),
        ],
      },
    };

    if (settings.persistence) {
      new k8s.apps.v1.StatefulSet(
        name,
        {
          metadata,
          spec: {
            serviceName: service.metadata.name,
            replicas: 1,
            // Kubernetes' default, written down: the claim, and the data, outlive the StatefulSet, so
            // replacing it (a new volumeClaimTemplates) attaches the same volume again.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            selector: { matchLabels: RedisStore.podLabels },
            template: podTemplate,
            volumeClaimTemplates: [
              {
                metadata: { name: "data" },
                spec: {
                  accessModes: ["ReadWriteOnce"],
                  storageClassName: settings.persistence.storageClass,
                  resources: { requests: { storage: settings.persistence.storageSize } },
                },
              },
            ],
          },
        },
        { parent: this },
      );
    } else {
      new k8s.apps.v1.Deployment(
        name,
        {
          metadata,
          spec: {
            replicas: 1,
            // Two Redis pods at once would be two different counters: stop the old one first.
            strategy: { type: "Recreate" },
            selector: { matchLabels: RedisStore.podLabels },
            template: podTemplate,
          },
        },
        { parent: this },
      );
    }

    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata,
        spec: {
          podSelector: { matchLabels: RedisStore.podLabels },
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ podSelector: { matchLabels: args.clientLabels } }], ports: [{ protocol: "TCP", port: redisPort }] }],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ host: service.metadata.name, passwordSecretName: secret.metadata.name });
  }
}

/** redis.conf without the password: append-only persistence on a volume, or nothing on disk at all. */
function redisConf(settings: InClusterRedisSettings): string {
  const persistence = settings.persistence ? ["appendonly yes", `appendfsync ${settings.persistence.appendfsync}`] : ["appendonly no", 'save ""'];
  return [`port ${redisPort}`, "dir /data", ...persistence, ""].join("\n");
}
