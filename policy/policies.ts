// What this project promises of every stack, as policy: each rule in a file of its own.
import type { Policies } from "@pulumi/policy";
import { helmReleasePinned, helmValuesWithoutCredentials } from "./helm-releases";
import { hpaOwnsReplicas } from "./hpa-owns-replicas";
import { imagesPinned } from "./images-pinned";
import { networkPolicyPerNamespace } from "./network-policies";
import { requestsAndLimits } from "./requests-and-limits";
import { restrictedPods } from "./restricted-pods";

export const policies: Policies = [
  imagesPinned,
  requestsAndLimits,
  restrictedPods,
  hpaOwnsReplicas,
  helmReleasePinned,
  helmValuesWithoutCredentials,
  networkPolicyPerNamespace,
];
