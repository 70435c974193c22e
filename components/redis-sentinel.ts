// Redis as a primary with replicas, a Sentinel in every pod: losing the primary's process, pod or node
// costs the seconds until the Sentinels agree it is gone and promote a replica.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { InClusterRedisSettings } from "./config";
import type { RedisConnection } from "./counter-app";
import { restrictedContainerSecurityContext } from "./pod-security";
import { dataClaim, redisAuthEnv, redisContainer, redisLabels, type RedisParts, redisPodSpec, redisPort } from "./redis-parts";

export const sentinelPort = 26379;
/** The name the Sentinels know the primary by; the backend asks them for it (REDIS_SENTINEL_MASTER). */
export const sentinelMaster = "hit-counter";
// The Sentinels call the primary down after 5 s without an answer (Redis's default is 30 s): long
// enough to ride out a garbage-collection pause or a slow fsync, short enough to be a blip.
const downAfterMs = 5000;

// Every pod is known by its stable DNS name (the headless Service), never by its IP, which changes
// when the pod is replaced: the Sentinels resolve and announce names, the replicas announce theirs.
// `<pod>.<service>.<namespace>.svc` resolves through the pod's search domains whatever the cluster's
// domain. On start, a node asks the Sentinels which pod is the primary now; only when none answers
// (the set's first start, or every pod lost at once) is it the first pod.
const scripts = {
  "common.sh": `self="$POD_NAME.$NODES.$POD_NAMESPACE.svc"
primary=$(redis-cli -h "$SENTINELS" -p ${sentinelPort} --raw SENTINEL get-master-addr-by-name "$MASTER" 2>/dev/null | head -n 1)
[ -n "$primary" ] || primary="\${POD_NAME%-*}-0.$NODES.$POD_NAMESPACE.svc"
`,
  "redis.sh": `. /scripts/common.sh
if [ "$primary" = "$self" ]; then
  exec redis-server /etc/redis/redis.conf --replica-announce-ip "$self"
fi
exec redis-server /etc/redis/redis.conf --replica-announce-ip "$self" --replicaof "$primary" ${redisPort}
`,
  // Sentinel rewrites its config file, so it is written afresh to a scratch volume; the password goes
  // through the shell's own printf, never onto a command line. Sentinel will not start on a name that
  // does not resolve yet, so it waits for the primary to answer first.
  "sentinel.sh": `. /scripts/common.sh
until redis-cli -h "$primary" -p ${redisPort} ping >/dev/null 2>&1; do sleep 1; done
{
  printf 'port ${sentinelPort}\\ndir /sentinel\\n'
  printf 'sentinel resolve-hostnames yes\\nsentinel announce-hostnames yes\\nsentinel announce-ip %s\\n' "$self"
  printf 'requirepass %s\\n' "$REDISCLI_AUTH"
  printf 'sentinel monitor %s %s ${redisPort} %s\\n' "$MASTER" "$primary" "$QUORUM"
  printf 'sentinel auth-pass %s %s\\n' "$MASTER" "$REDISCLI_AUTH"
  printf 'sentinel down-after-milliseconds %s ${downAfterMs}\\nsentinel failover-timeout %s 30000\\nsentinel parallel-syncs %s 1\\n' "$MASTER" "$MASTER" "$MASTER"
} > /sentinel/sentinel.conf
exec redis-server /sentinel/sentinel.conf --sentinel
`,
};

export interface ReplicatedRedisParts extends RedisParts {
  replication: NonNullable<InClusterRedisSettings["replication"]>;
}

/**
 * The StatefulSet of `replicas + 1` pods (redis-server and a Sentinel each), its headless Service,
 * the Sentinels' Service the backend asks, a ConfigMap of start scripts and a PodDisruptionBudget.
 */
export function replicatedRedis(parent: pulumi.Resource, name: string, parts: ReplicatedRedisParts): RedisConnection {
  const { metadata, settings, replication, configVolume, secretName } = parts;
  const persistence = settings.persistence;
  if (!persistence) throw new Error("a replicated Redis needs persistence (checked with the stack's config)");
  const pods = replication.replicas + 1;

  const nodes = new k8s.core.v1.Service(
    `${name}-nodes`,
    {
      metadata: { ...metadata, name: `${name}-nodes` },
      spec: {
        clusterIP: "None",
        // A starting pod's name must resolve before it is Ready: replicas and Sentinels reach it by name.
        publishNotReadyAddresses: true,
        selector: redisLabels,
        ports: [
          { name: "redis", port: redisPort, targetPort: "redis" },
          { name: "sentinel", port: sentinelPort, targetPort: "sentinel" },
        ],
      },
    },
    { parent },
  );
  const sentinels = new k8s.core.v1.Service(
    `${name}-sentinel`,
    {
      metadata: { ...metadata, name: `${name}-sentinel` },
      spec: { type: "ClusterIP", selector: redisLabels, ports: [{ name: "sentinel", port: sentinelPort, targetPort: "sentinel" }] },
    },
    { parent },
  );
  const startScripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, { metadata: { ...metadata, name: `${name}-scripts` }, data: scripts }, { parent });

  const env = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "NODES", value: nodes.metadata.name },
    { name: "SENTINELS", value: sentinels.metadata.name },
    { name: "MASTER", value: sentinelMaster },
    // A majority of the Sentinels must agree that the primary is down, and a majority must vote for
    // the failover: with one Sentinel per pod, losing any one pod leaves a majority.
    { name: "QUORUM", value: String(Math.floor(pods / 2) + 1) },
  ];
  const scriptsMount = { name: "scripts", mountPath: "/scripts", readOnly: true };
  const redis = redisContainer(settings, secretName, { args: ["sh", "/scripts/redis.sh"], env, volumeMounts: [scriptsMount] });
  const sentinel = {
    name: "sentinel",
    image: settings.image,
    args: ["sh", "/scripts/sentinel.sh"],
    ports: [{ name: "sentinel", containerPort: sentinelPort }],
    env: [redisAuthEnv(secretName), ...env],
    // A Sentinel holds a few kilobytes of state per monitored Redis.
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
    securityContext: restrictedContainerSecurityContext,
    readinessProbe: { exec: { command: ["redis-cli", "-p", String(sentinelPort), "ping"] }, periodSeconds: 5, failureThreshold: 3 },
    volumeMounts: [scriptsMount, { name: "sentinel", mountPath: "/sentinel" }],
  };
  // Preferred, not required: a one-node cluster still runs every pod, and a zone-less cluster ignores the second term.
  const spreadBy = (topologyKey: string, weight: number) => ({ weight, podAffinityTerm: { topologyKey, labelSelector: { matchLabels: redisLabels } } });

  new k8s.apps.v1.StatefulSet(
    name,
    {
      metadata,
      spec: {
        serviceName: nodes.metadata.name,
        replicas: pods,
        // The first start brings up the first pod (the primary) before its replicas.
        podManagementPolicy: "OrderedReady",
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        selector: { matchLabels: redisLabels },
        template: {
          metadata: { labels: redisLabels },
          spec: {
            ...redisPodSpec(
              [redis, sentinel],
              [
                configVolume,
                { name: "scripts", configMap: { name: startScripts.metadata.name } },
                { name: "sentinel", emptyDir: { sizeLimit: "1Mi" } },
              ],
            ),
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [spreadBy("kubernetes.io/hostname", 100), spreadBy("topology.kubernetes.io/zone", 50)],
              },
            },
          },
        },
        volumeClaimTemplates: [dataClaim(persistence)],
      },
    },
    { parent },
  );

  // A node drain takes one Redis pod at a time: the others hold a majority of Sentinels and a primary.
  new k8s.policy.v1.PodDisruptionBudget(name, { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: redisLabels } } }, { parent });

  return { host: sentinels.metadata.name, port: sentinelPort, passwordSecret: { name: secretName, key: "password" }, sentinelMaster };
}
