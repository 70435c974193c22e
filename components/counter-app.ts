import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { LogLevel } from "../service/src/config";
import type { Autoscaling, ContainerResources, ServiceType } from "./config";
import type { ObservedBackend } from "./monitoring/backend-queries";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./pod-security";

/** The service's PORT; the Service, the probes and the ServiceMonitor all use it by its name. */
export const httpPort = { name: "http", number: 3000 };
export const servicePort = 80;

// Zero-error rollouts: on termination the pod leaves the Service's endpoints while it keeps serving
// for preStopSeconds (endpoint removal propagates asynchronously), then gets SIGTERM and drains its
// open requests; the grace period covers both with room to spare.
const preStopSeconds = 5;
const terminationGracePeriodSeconds = 30;
// The HPA controller's sync period is 15 s: policies act per period.
const scalingPeriodSeconds = 15;

export interface CounterAppArgs {
  namespace: pulumi.Input<string>;
  image: pulumi.Input<string>;
  /** A kubernetes.io/dockerconfigjson Secret for a registry that needs a login. */
  imagePullSecret?: pulumi.Input<string>;
  resources: ContainerResources;
  logLevel: LogLevel;
  serviceType: ServiceType;
  /** The HPA's minimum, the replicas when there is no HPA, and the PodDisruptionBudget's trigger. */
  minReplicas: number;
  autoscaling?: Autoscaling;
  redis: RedisConnection;
}

/** Where the backend finds Redis, whoever runs it (RedisStore in the cluster, or ExternalRedis). */
export interface RedisConnection {
  /** The Redis, or with `sentinelMaster` the Sentinels that name its primary. */
  host: pulumi.Input<string>;
  port: number;
  /** The name the Sentinels know the primary by, when the backend finds it through them. */
  sentinelMaster?: string;
  passwordSecret: { name: pulumi.Input<string>; key: string };
  /** TLS, the server name verified; `caBundle`: a Secret key holding the CAs to trust instead of Node's public ones. */
  tls?: { caBundle?: { secretName: pulumi.Input<string>; key: string } };
}

// Where the pods read the CA bundle of an external Redis.
const redisCaDir = "/etc/redis-tls";
const redisCaFile = "ca.crt";

/** The counter backend: Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget. */
export class CounterApp extends pulumi.ComponentResource {
  /** Static: the Redis NetworkPolicy (RedisStore's ingress, ExternalRedis's egress) names these pods before the app is declared. */
  public static readonly podLabels = { "app.kubernetes.io/name": "hit-counter", "app.kubernetes.io/component": "backend", "app.kubernetes.io/part-of": "hit-counter" };
  public static readonly containerName = "hit-counter";
  /** The Service port that serves /metrics. */
  public readonly metricsPort = httpPort.name;
  public readonly deploymentName: pulumi.Output<string>;
  public readonly service: k8s.core.v1.Service;
  public readonly hpaName?: pulumi.Output<string>;
  /** The label values that pick this backend's series in Prometheus. */
  public readonly observed: pulumi.Output<ObservedBackend>;

  constructor(name: string, args: CounterAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:CounterApp", name, {}, opts);
    const metadata = { name, namespace: args.namespace, labels: CounterApp.podLabels };
    const probe = (path: string) => ({ httpGet: { path, port: httpPort.name } });
    const caBundle = args.redis.tls?.caBundle;

    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata,
        spec: {
          // Left unset while the HPA owns the count: a value here would fight it on every update.
          replicas: args.autoscaling ? undefined : args.minReplicas,
          selector: { matchLabels: CounterApp.podLabels },
          // Never below the current capacity during a rollout.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels: CounterApp.podLabels },
            spec: {
              securityContext: restrictedPodSecurityContext(),
              automountServiceAccountToken: false,
              imagePullSecrets: args.imagePullSecret ? [{ name: args.imagePullSecret }] : undefined,
              terminationGracePeriodSeconds,
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  // A preference, so a one-node laptop cluster still schedules every replica.
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: CounterApp.podLabels },
                },
              ],
              containers: [
                {
                  name: CounterApp.containerName,
                  image: args.image,
                  ports: [{ name: httpPort.name, containerPort: httpPort.number }],
                  env: [
                    { name: "PORT", value: String(httpPort.number) },
                    ...redisAddress(args.redis),
                    { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: args.redis.passwordSecret } },
                    ...(args.redis.tls ? [{ name: "REDIS_TLS", value: "true" }] : []),
                    ...(caBundle ? [{ name: "REDIS_TLS_CA_FILE", value: `${redisCaDir}/${redisCaFile}` }] : []),
                    { name: "LOG_LEVEL", value: args.logLevel },
                  ],
                  resources: args.resources,
                  securityContext: restrictedContainerSecurityContext,
                  // Up to 60 s to start before liveness applies; liveness only asks whether the
                  // process answers, readiness whether it can reach Redis.
                  startupProbe: { ...probe("/healthz"), periodSeconds: 2, failureThreshold: 30 },
                  livenessProbe: { ...probe("/healthz"), periodSeconds: 10, failureThreshold: 3 },
                  readinessProbe: { ...probe("/readyz"), periodSeconds: 5, failureThreshold: 2 },
                  // The sleep action needs no shell in the image (Kubernetes 1.30+).
                  lifecycle: { preStop: { sleep: { seconds: preStopSeconds } } },
                  volumeMounts: [
                    { name: "tmp", mountPath: "/tmp" },
                    ...(caBundle ? [{ name: "redis-ca", mountPath: redisCaDir, readOnly: true }] : []),
                  ],
                },
              ],
              volumes: [
                // The root filesystem is read-only; Node and npm may still want a scratch directory.
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                // Only the CA bundle's key: the password stays out of the filesystem.
                ...(caBundle ? [{ name: "redis-ca", secret: { secretName: caBundle.secretName, items: [{ key: caBundle.key, path: redisCaFile }] } }] : []),
              ],
            },
          },
        },
      },
      { parent: this },
    );
    this.deploymentName = deployment.metadata.name;

    this.service = new k8s.core.v1.Service(
      name,
      {
        metadata,
        spec: {
          type: args.serviceType,
          selector: CounterApp.podLabels,
          ports: [{ name: httpPort.name, port: servicePort, targetPort: httpPort.name }],
        },
      },
      { parent: this },
    );

    if (args.autoscaling) {
      this.hpaName = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        { metadata, spec: horizontalPodAutoscalerSpec(deployment.metadata.name, args.minReplicas, args.autoscaling) },
        { parent: this },
      ).metadata.name;
    }

    if (args.minReplicas > 1) {
      // Voluntary disruptions (node drains) take one pod at a time.
      new k8s.policy.v1.PodDisruptionBudget(
        name,
        { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: CounterApp.podLabels } } },
        { parent: this },
      );
    }

    this.observed = pulumi
      .all([args.namespace, this.service.metadata.name, this.deploymentName, this.hpaName])
      .apply(([namespace, service, deployment, hpa]) => ({ namespace, service, deployment, hpa, container: CounterApp.containerName }));

    this.registerOutputs({ deploymentName: this.deploymentName, serviceName: this.service.metadata.name, hpaName: this.hpaName });
  }
}

function redisAddress({ host, port, sentinelMaster }: RedisConnection): k8s.types.input.core.v1.EnvVar[] {
  if (sentinelMaster === undefined) return [{ name: "REDIS_HOST", value: host }, { name: "REDIS_PORT", value: String(port) }];
  return [{ name: "REDIS_SENTINELS", value: pulumi.interpolate`${host}:${port}` }, { name: "REDIS_SENTINEL_MASTER", value: sentinelMaster }];
}

function horizontalPodAutoscalerSpec(
  deploymentName: pulumi.Input<string>,
  minReplicas: number,
  scaling: Autoscaling,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const utilisation = (name: string, percent: number | undefined) =>
    percent === undefined ? [] : [{ type: "Resource", resource: { name, target: { type: "Utilization", averageUtilization: percent } } }];
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas,
    maxReplicas: scaling.maxReplicas,
    metrics: [...utilisation("cpu", scaling.cpuTargetUtilization), ...utilisation("memory", scaling.memoryTargetUtilization)],
    behavior: {
      // Fast out: double, or add scaleUpMaxPods, whichever is more, every period.
      scaleUp: {
        stabilizationWindowSeconds: scaling.scaleUpStabilizationSeconds,
        selectPolicy: "Max",
        policies: [
          { type: "Percent", value: 100, periodSeconds: scalingPeriodSeconds },
          { type: "Pods", value: scaling.scaleUpMaxPods, periodSeconds: scalingPeriodSeconds },
        ],
      },
      // Slow in: only after the window has seen lower load throughout, a share of pods per minute.
      scaleDown: {
        stabilizationWindowSeconds: scaling.scaleDownStabilizationSeconds,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: scaling.scaleDownMaxPercent, periodSeconds: 60 }],
      },
    },
  };
}
