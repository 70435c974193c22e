// Where an in-cluster run points by default: the app behind the HPA, found through the API.
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { KubeModule } from "./kube";

/** The image and in-cluster URL of the app behind an HPA: what the Job runs and loads by default. */
export async function findTarget(
  kube: KubeModule,
  config: k8s.KubeConfig,
  namespace: string,
  hpaName: string,
): Promise<{ image: string; url: string }> {
  const hpa = await config.makeApiClient(kube.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace });
  const target = hpa.spec?.scaleTargetRef.name ?? "";
  const deployment = await config.makeApiClient(kube.AppsV1Api).readNamespacedDeployment({ name: target, namespace });
  const image = deployment.spec?.template.spec?.containers[0]?.image;
  const podLabels = deployment.spec?.template.metadata?.labels ?? {};
  const services = await config.makeApiClient(kube.CoreV1Api).listNamespacedService({ namespace });
  const service = services.items.find((s) => {
    const selector = Object.entries(s.spec?.selector ?? {});
    return selector.length > 0 && selector.every(([key, value]) => podLabels[key] === value);
  });
  const port = service?.spec?.ports?.[0]?.port;
  if (!image || !service || !port) {
    throw new Error(`cannot find the image and Service of deployment ${namespace}/${target}: pass --image and --url`);
  }
  return { image, url: `http://${service.metadata?.name}.${namespace}.svc:${port}` };
}
