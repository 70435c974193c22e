import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExternalRedisSettings } from "./config";
import type { RedisConnection } from "./counter-app";

export interface ExternalRedisArgs {
  namespace: pulumi.Input<string>;
  settings: ExternalRedisSettings;
  /** Labels of the pods that connect: their egress NetworkPolicy lets them reach Redis and DNS, nothing else. */
  clientLabels: Record<string, string>;
}

/**
 * A Redis the stack does not run (ElastiCache, Memorystore, Azure Cache for Redis): the Secret that
 * carries its password (and CA bundle) into the cluster, and the clients' egress NetworkPolicy.
 */
export class ExternalRedis extends pulumi.ComponentResource {
  public readonly connection: RedisConnection;

  constructor(name: string, args: ExternalRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hitcounter:index:ExternalRedis", name, {}, opts);
    const { namespace, settings } = args;
    const metadata = { name, namespace, labels: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "hit-counter" } };
    const caBundle = settings.tls?.caBundle;

    // The CA bundle is public; it shares the Secret so that one object carries the whole login.
    const secret = new k8s.core.v1.Secret(
      name,
      {
        metadata: { ...metadata, name: `${name}-auth` },
        type: "Opaque",
        stringData: { password: settings.password, ...(caBundle === undefined ? {} : { "ca.crt": caBundle }) },
      },
      { parent: this },
    );

    this.connection = {
      host: settings.host,
      port: settings.port,
      passwordSecret: { name: secret.metadata.name, key: "password" },
      tls: settings.tls && { caBundle: caBundle === undefined ? undefined : { secretName: secret.metadata.name, key: "ca.crt" } },
    };

    // Egress to any address on Redis's port: a managed endpoint's addresses are not known here and
    // change on failover. DNS on any address too: the resolver may be a Service or a node-local cache.
    new k8s.networking.v1.NetworkPolicy(
      name,
      {
        metadata,
        spec: {
          podSelector: { matchLabels: args.clientLabels },
          policyTypes: ["Egress"],
          egress: [
            { ports: [{ protocol: "TCP", port: settings.port }] },
            { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
          ],
        },
      },
      { parent: this },
    );

    this.registerOutputs({ host: settings.host, passwordSecretName: secret.metadata.name });
  }
}
