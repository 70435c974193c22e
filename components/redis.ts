import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { InClusterRedisSettings } from "./config";
import type { RedisConnection } from "./counter-app";
import { dataClaim, redisContainer, redisLabels, type RedisParts, redisPodSpec, redisPort } from "./redis-parts";
import { replicatedRedis, sentinelPort } from "./redis-sentinel";

export interface RedisStoreArgs {
  namespace: pulumi.Input<string>;
  settings: InClusterRedisSettings;
  password: pulumi.Output<string>;
  /** Labels of the pods allowed to connect: the NetworkPolicy admits them and no one else. */
  clientLabels: Record<string, string>;
}

/**
 * Redis with a generated password: Secret, Service, Deployment or StatefulSet, NetworkPolicy; or, with
 * replication, a primary, its replicas and their Sentinels (redis-sentinel.ts).
 */
export class RedisStore extends pulumi.ComponentResource {
  /** Its Service, and where clients read the password from (a secretKeyRef), never a copy of the value. */
  public readonly connection: RedisConnection;
  public static readonly podLabels = redisLabels;

  constructor(name: string, args: RedisStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:RedisStore", name, {}, opts);
    const { namespace, settings } = args;
    const metadata = { name, namespace, labels: RedisStore.podLabels };

    // A replica logs in to its primary with the same password.
    const masterauth = settings.replication ? pulumi.interpolate`masterauth ${args.password}\n` : "";
    // The whole redis.conf is secret: it carries requirepass, which must stay out of the command
    // line (visible to `ps`) and out of the pod spec.
    const secret = new k8s.core.v1.Secret(
      name,
      {
        metadata: { ...metadata, name: `${name}-auth` },
        type: "Opaque",
        stringData: {
          password: args.password,
          "redis.conf": pulumi.interpolate`${redisConf(settings)}requirepass ${args.password}\n${masterauth}`,
        },
      },
      { parent: this },
    );

    const configVolume = { name: "config", secret: { secretName: secret.metadata.name, items: [{ key: "redis.conf", path: "redis.conf" }] } };
    const clients = [{ podSelector: { matchLabels: args.clientLabels } }];
    let ports = [redisPort];
    if (settings.replication) {
      this.connection = replicatedRedis(this, name, { metadata, settings, replication: settings.replication, configVolume, secretName: secret.metadata.name });
      ports = [redisPort, sentinelPort];
      // Replication and the Sentinels' own traffic, pod to pod.
      clients.push({ podSelector: { matchLabels: RedisStore.podLabels } });
    } else {
      this.connection = singleRedis(this, name, { metadata, settings, configVolume, secretName: secret.metadata.name });
    }

    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata,
        spec: {
          podSelector: { matchLabels: RedisStore.podLabels },
          policyTypes: ["Ingress"],
          ingress: [{ from: clients, ports: ports.map((port) => ({ protocol: "TCP", port })) }],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ host: this.connection.host, passwordSecretName: secret.metadata.name });
  }
}

/** redis.conf without the password: append-only persistence on a volume, or nothing on disk at all. */
function redisConf({ persistence, replication }: InClusterRedisSettings): string {
  const storage = persistence ? ["appendonly yes", `appendfsync ${persistence.appendfsync}`] : ["appendonly no", 'save ""'];
  // Lag, in seconds, past which a replica no longer counts towards min-replicas-to-write.
  const writeGuard = replication?.minReplicasToWrite ? [`min-replicas-to-write ${replication.minReplicasToWrite}`, "min-replicas-max-lag 10"] : [];
  return [`port ${redisPort}`, "dir /data", ...storage, ...writeGuard, ""].join("\n");
}

/** One Redis pod behind a ClusterIP Service: a StatefulSet with a volume, or a Deployment without. */
function singleRedis(parent: pulumi.Resource, name: string, { metadata, settings, configVolume, secretName }: RedisParts): RedisConnection {
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
    { parent },
  );
  const template = {
    metadata: { labels: RedisStore.podLabels },
    spec: redisPodSpec([redisContainer(settings, secretName)], [configVolume, ...(settings.persistence ? [] : [{ name: "data", emptyDir: {} }])]),
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
          template,
          volumeClaimTemplates: [dataClaim(settings.persistence)],
        },
      },
      { parent },
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
          template,
        },
      },
      { parent },
    );
  }
  return { host: service.metadata.name, port: redisPort, passwordSecret: { name: secretName, key: "password" } };
}
