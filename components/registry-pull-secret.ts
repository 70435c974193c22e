import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RegistryCredentials } from "./config";

// Docker names Docker Hub by this URL in a config's `auths`, and the kubelet looks it up that way.
const dockerHubAuthKey = "https://index.docker.io/v1/";

/**
 * A kubernetes.io/dockerconfigjson Secret with the registry login, for pods' imagePullSecrets: a
 * private registry refuses the kubelet's anonymous pull. Its content is a Pulumi secret.
 */
export function registryPullSecret(
  name: string,
  namespace: pulumi.Input<string>,
  credentials: RegistryCredentials,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  const server = credentials.server === "docker.io" ? dockerHubAuthKey : credentials.server;
  const config = pulumi.secret(
    credentials.password.apply((password) =>
      JSON.stringify({
        auths: {
          [server]: { username: credentials.username, password, auth: Buffer.from(`${credentials.username}:${password}`).toString("base64") },
        },
      }),
    ),
  );
  return new k8s.core.v1.Secret(
    name,
    { metadata: { name, namespace }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": config } },
    opts,
  );
}
