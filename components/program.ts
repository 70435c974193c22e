import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkCluster, clusterProvider, type InspectCluster, inspectCluster, reportFit } from "./cluster";
import { loadStackConfig } from "./config";
import { CounterApp, servicePort } from "./counter-app";
import { ExternalRedis } from "./external-redis";
import { CounterImage } from "./image";
import { Monitoring } from "./monitoring/monitoring";
import { GeneratedPassword } from "./password";
import { podSecurityLabels } from "./pod-security";
import { RedisStore } from "./redis";
import { registryPullSecret } from "./registry-pull-secret";

/** What `pulumi stack output` shows: where things are and how to open them. */
export interface StackOutputs {
  namespace: pulumi.Output<string>;
  imageReference: pulumi.Output<string>;
  appService: pulumi.Output<string>;
  /** Reaches the app on any cluster: run it, then open http://localhost:8080. */
  appPortForward: pulumi.Output<string>;
  /** http://<address> of a LoadBalancer Service, or http://<node-ip>:<port> of a NodePort one. */
  appUrl: pulumi.Output<string>;
  hpaName: pulumi.Output<string | undefined>;
  grafanaPortForward: pulumi.Output<string | undefined>;
  grafanaAdminPasswordCommand: pulumi.Output<string | undefined>;
}

/**
 * The whole program: validates the stack's config and checks its cluster, then declares every
 * resource. A function, so both index.ts and an Automation API inline program (and each mocked
 * test, with its own `inspect`) can evaluate it anew.
 */
export async function deployHitCounter(inspect: InspectCluster = inspectCluster): Promise<StackOutputs> {
  const config = loadStackConfig();
  const fit = checkCluster(config, await inspect(config.kubeContext));
  reportFit(fit);
  const provider = clusterProvider(config.kubeContext);
  const onCluster = { provider };
  const inCluster = { providers: [provider] };

  const namespaceResource = new k8s.core.v1.Namespace(
    config.namespace,
    { metadata: { name: config.namespace, labels: podSecurityLabels("restricted") } },
    // Deleting the namespace deletes the Redis volume's claim with it.
    { ...onCluster, protect: config.redis.persistence?.protect },
  );
  const namespace = namespaceResource.metadata.name;

  const image = new CounterImage("hit-counter", { source: config.image, platform: fit.imagePlatform, tag: pulumi.getStack() });
  const pullSecret = config.image.credentials && registryPullSecret("registry-pull", namespace, config.image.credentials, onCluster);

  // The backend connects the same way to the stack's own Redis and to an external one.
  const redis =
    config.redis.mode === "external"
      ? new ExternalRedis("external-redis", { namespace, settings: config.redis, clientLabels: CounterApp.podLabels }, inCluster)
      : new RedisStore(
          "redis",
          {
            namespace,
            settings: config.redis,
            password: new GeneratedPassword("redis-password").value,
            clientLabels: CounterApp.podLabels,
          },
          inCluster,
        );

  const app = new CounterApp("hit-counter", {
    namespace,
    image: image.reference,
    imagePullSecret: pullSecret?.metadata.name,
    resources: config.resources,
    logLevel: config.logLevel,
    serviceType: config.serviceType,
    minReplicas: config.minReplicas,
    autoscaling: config.autoscaling,
    redis: redis.connection,
  }, inCluster);

  const monitoring = config.monitoring && new Monitoring("monitoring", { settings: config.monitoring, app }, inCluster);

  const service = app.service;
  return {
    namespace,
    imageReference: image.reference,
    appService: service.metadata.name,
    appPortForward: pulumi.interpolate`kubectl -n ${namespace} port-forward svc/${service.metadata.name} 8080:${servicePort}`,
    appUrl: pulumi.all([service.spec, service.status]).apply(([spec, status]) => {
      const ingress = status?.loadBalancer?.ingress?.[0];
      if (spec.type === "LoadBalancer") return ingress ? `http://${ingress.hostname || ingress.ip}` : "pending: the load balancer has no address yet";
      if (spec.type === "NodePort") return `http://<node-ip>:${spec.ports[0].nodePort} (minikube ip, or a kind node's address)`;
      return "none: a ClusterIP Service; use appPortForward";
    }),
    hpaName: pulumi.output(app.hpaName),
    grafanaPortForward: pulumi.output(monitoring?.grafanaPortForward),
    grafanaAdminPasswordCommand: pulumi.output(monitoring?.grafanaAdminPasswordCommand),
  };
}
