// What this project promises of every stack, as policy: each rule in a file of its own.
import type { Policies } from "@pulumi/policy";
import { helmReleasePinned, helmValuesWithoutCredentials } from "./helm-releases";
import { hpaOwnsReplicas } from "./hpa-owns-replicas";
import { imagesPinned } from "./images-pinned";
import { networkPolicyPerNamespace } from "./network-policies";
import { requestsAndLimits } from "./requests-and-limits";
import { restrictedPods } from "./restricted-pods";

/** The pack's policies, fresh: hpa-owns-replicas remembers what one run has seen. */
export const createPolicies = (): Policies => [
  imagesPinned,
  requestsAndLimits,
  restrictedPods,
  hpaOwnsReplicas(),
  helmReleasePinned,
  helmValuesWithoutCredentials,
  networkPolicyPerNamespace,
];
