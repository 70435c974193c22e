// The policy pack: `pulumi preview --policy-pack policy` (or `up`) checks every resource of the
// stack against policies.ts before anything is deployed. Works with any backend, the file one too.
import { PolicyPack } from "@pulumi/policy";
import { createPolicies } from "./policies";

new PolicyPack("hit-counter", { policies: createPolicies() });
