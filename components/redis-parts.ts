// What the one-pod and the replicated Redis layouts share: labels, port, pod spec, volume claim.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { InClusterRedisSettings } from "./config";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./pod-security";

export const redisPort = 6379;
// The official image's `redis` user; set explicitly because the image starts as root and drops later.
const redisUid = 999;

export const redisLabels = { "app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "store", "app.kubernetes.io/part-of": "hit-counter" };

/** What a Redis workload is made of, for the one-pod and the replicated layouts alike. */
export interface RedisParts {
  metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };
  settings: InClusterRedisSettings;
  configVolume: k8s.types.input.core.v1.Volume;
  secretName: pulumi.Output<string>;
}

/** The pod both layouts run: non-root as the image's redis user, no service account token. */
export function redisPodSpec(containers: k8s.types.input.core.v1.Container[], volumes: k8s.types.input.core.v1.Volume[]): k8s.types.input.core.v1.PodSpec {
  return { securityContext: restrictedPodSecurityContext(redisUid), automountServiceAccountToken: false, containers, volumes };
}

/** The claim template of a Redis StatefulSet: one ReadWriteOnce volume per pod. */
export function dataClaim(persistence: NonNullable<InClusterRedisSettings["persistence"]>): k8s.types.input.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name: "data" },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: persistence.storageClass,
      resources: { requests: { storage: persistence.storageSize } },
    },
  };
}

/** What the replicated layout adds to the redis-server container: its start script, env and mounts. */
export interface RedisContainerExtras {
  args: string[];
  env: k8s.types.input.core.v1.EnvVar[];
  volumeMounts: k8s.types.input.core.v1.VolumeMount[];
}

/**
 * The redis-server container, reading its config (password included) from the Secret's redis.conf;
 * REDISCLI_AUTH logs the probes' redis-cli in.
 */
export function redisContainer(settings: InClusterRedisSettings, secretName: pulumi.Output<string>, extras?: RedisContainerExtras): k8s.types.input.core.v1.Container {
  return {
    name: "redis",
    image: settings.image,
    args: extras?.args ?? ["redis-server", "/etc/redis/redis.conf"],
    ports: [{ name: "redis", containerPort: redisPort }],
    env: [redisAuthEnv(secretName), ...(extras?.env ?? [])],
    resources: settings.resources,
    securityContext: restrictedContainerSecurityContext,
    readinessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { tcpSocket: { port: "redis" }, initialDelaySeconds: 10, periodSeconds: 10 },
    volumeMounts: [
      { name: "data", mountPath: "/data" },
      { name: "config", mountPath: "/etc/redis", readOnly: true },
      ...(extras?.volumeMounts ?? []),
    ],
  };
}

/** The password for redis-cli, from the Secret. */
export function redisAuthEnv(secretName: pulumi.Output<string>): k8s.types.input.core.v1.EnvVar {
  return { name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: secretName, key: "password" } } };
}
