// Where each kind of Kubernetes resource that runs pods keeps its pod spec, and what a pod spec
// holds that the policies read. Props are free-form to the policy SDK; these types name the fields
// read, all optional, as a resource may leave any of them out.

export interface Container {
  name?: string;
  image?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  ports?: { hostPort?: number }[];
  securityContext?: SecurityContext;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  volumes?: Record<string, unknown>[];
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

const podSpecs: Record<string, (props: Props) => PodSpec | undefined> = {
  "kubernetes:core/v1:Pod": (props) => props.spec,
  "kubernetes:apps/v1:Deployment": (props) => props.spec?.template?.spec,
  "kubernetes:apps/v1:StatefulSet": (props) => props.spec?.template?.spec,
  "kubernetes:apps/v1:DaemonSet": (props) => props.spec?.template?.spec,
  "kubernetes:apps/v1:ReplicaSet": (props) => props.spec?.template?.spec,
  "kubernetes:batch/v1:Job": (props) => props.spec?.template?.spec,
  "kubernetes:batch/v1:CronJob": (props) => props.spec?.jobTemplate?.spec?.template?.spec,
};

/** The pod spec of a resource that runs pods; undefined for every other resource. */
export function podSpecOf(type: string, props: Props): PodSpec | undefined {
  return podSpecs[type]?.(props);
}

/** Every container of a pod: its init and ephemeral containers too. */
export function containersOf(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

/** The kind of a type token, for messages: "kubernetes:apps/v1:Deployment" -> "Deployment". */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}

/** Helm releases and charts, whose `values` and `version` the policies read. */
export const helmTypes = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];
