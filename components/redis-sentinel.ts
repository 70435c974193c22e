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
// domain. On start, a node asks the other pods' Sentinels which pod is the primary now, one by one
// rather than through the Service, and believes the newest configuration epoch: a Sentinel that has
// not heard of a failover yet (one just started, or cut off) still names the old primary, and a
// pod that came back as a second primary would take writes that the next resync throws away. Only
// when no other pod exists (the set's first start, or every pod lost at once), or none of their
// Sentinels answers within 15 s (every pod restarting together), is it the first pod.
const scripts = {
  "common.sh": `self="$POD_NAME.$NODES.$POD_NAMESPACE.svc"
peers=""
for i in $(seq 0 $((PODS - 1))); do
  peer="\${POD_NAME%-*}-$i.$NODES.$POD_NAMESPACE.svc"
  [ "$peer" = "$self" ] || peers="$peers $peer"
done
named_primary() {
  for peer in $peers; do
    redis-cli -h "$peer" -p ${sentinelPort} --raw SENTINEL master "$MASTER" 2>/dev/null |
      awk 'NR % 2 { key = $0; next } key == "ip" { ip = $0 } key == "config-epoch" { epoch = $0 } END { if (ip != "") print epoch, ip }'
  done | sort -n | tail -n 1 | cut -d " " -f 2
}
primary=$(named_primary)
for _ in $(seq 15); do
  [ -n "$primary" ] && break
  for peer in $peers; do getent hosts "$peer"; done | grep -q . || break
  sleep 1
  primary=$(named_primary)
done
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
  // A planned stop of the primary (a drain, a rollout, a delete) hands its role over first. Without
  // it the Sentinels wait down-after to call it gone, and a pod recreated sooner asks them, is told
  // it is still the primary and comes back as one: nothing is promoted, and every write waits for it.
  // Writes are paused first, so the replicas hold every acknowledged increment before one of them is
  // promoted; writes queued meanwhile are refused (READONLY) once this pod follows the new primary,
  // so none is acknowledged here and then lost. Bounded to fit the grace period; if no replica can
  // take over, the pod stops as before.
  "handover.sh": `. /scripts/common.sh
[ "$primary" = "$self" ] || exit 0
field() { tr -d '\\r' | sed -n "s/^$1://p"; }
redis-cli CLIENT PAUSE 20000 WRITE >/dev/null
offset=$(redis-cli INFO replication | field master_repl_offset)
for replica in $(redis-cli INFO replication | sed -n 's/^slave[0-9]*:ip=\\([^,]*\\),.*state=online.*/\\1/p'); do
  for _ in $(seq 20); do
    [ "$(redis-cli -h "$replica" INFO replication | field slave_repl_offset)" -ge "$offset" ] 2>/dev/null && break
    sleep 0.1
  done
done
for _ in $(seq 25); do
  for peer in $peers; do
    case "$(redis-cli -h "$peer" -p ${sentinelPort} --raw SENTINEL failover "$MASTER" 2>/dev/null)" in OK | INPROG*) break 2 ;; esac
  done
  sleep 0.2
done
next="$self"
for _ in $(seq 50); do
  next=$(named_primary)
  [ -n "$next" ] && [ "$next" != "$self" ] && break
  sleep 0.2
done
[ -n "$next" ] && [ "$next" != "$self" ] && redis-cli REPLICAOF "$next" ${redisPort} >/dev/null
redis-cli CLIENT UNPAUSE >/dev/null
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
    { name: "PODS", value: String(pods) },
    { name: "MASTER", value: sentinelMaster },
    // A majority of the Sentinels must agree that the primary is down, and a majority must vote for
    // the failover: with one Sentinel per pod, losing any one pod leaves a majority.
    { name: "QUORUM", value: String(Math.floor(pods / 2) + 1) },
  ];
  const scriptsMount = { name: "scripts", mountPath: "/scripts", readOnly: true };
  const redis = {
    ...redisContainer(settings, secretName, { args: ["sh", "/scripts/redis.sh"], env, volumeMounts: [scriptsMount] }),
    lifecycle: { preStop: { exec: { command: ["sh", "/scripts/handover.sh"] } } },
  };
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
