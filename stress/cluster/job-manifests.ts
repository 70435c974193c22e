// The Job that runs the agent next to the pods, and the ConfigMap that carries its bundle.
import type * as k8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../components/pod-security";
import { rounds, totalSeconds, type LoadPlan } from "../load/plan";

/** The Job's container, whose log the CLI follows. */
export const agentContainer = "load";
const mount = "/stress";

export interface JobSpec {
  name: string;
  namespace: string;
  image: string;
  plan: LoadPlan;
}

export function jobManifest({ name, namespace, image, plan }: JobSpec): k8s.V1Job {
  const labels = { "app.kubernetes.io/name": "stress", "app.kubernetes.io/instance": name };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, labels },
    spec: {
      backoffLimit: 0,
      // Bounded like a local run: the stages, one drain timeout per round of connections, and time to start.
      activeDeadlineSeconds: totalSeconds(plan.stages) + rounds(plan) * (plan.timeoutSeconds + 2) + 300,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          // The namespace enforces Pod Security "restricted"; the app's image may run as a user name.
          securityContext: restrictedPodSecurityContext(65532),
          containers: [
            {
              name: agentContainer,
              image,
              command: ["node", `${mount}/agent.cjs`],
              env: [{ name: "STRESS_PLAN", value: JSON.stringify(plan) }],
              // A load generator needs CPU of its own, or it measures itself rather than the service.
              resources: { requests: { cpu: "500m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              securityContext: restrictedContainerSecurityContext,
              volumeMounts: [{ name: "agent", mountPath: mount, readOnly: true }],
            },
          ],
          volumes: [{ name: "agent", configMap: { name, defaultMode: 0o444 } }],
        },
      },
    },
  };
}

/** The agent's ConfigMap, owned by the Job so deleting the Job removes it too. */
export function agentConfigMap(job: k8s.V1Job, bundle: string): k8s.V1ConfigMap {
  const { name, namespace, uid, labels } = job.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      labels,
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: name ?? "", uid: uid ?? "", blockOwnerDeletion: false }],
    },
    data: { "agent.cjs": bundle },
  };
}
