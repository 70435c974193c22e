// Runs policies the way the policy pack's analyzer does, over resources given as type, name and
// props: each resource policy on each resource, each stack policy on all of them.
import type { Policies, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { type ProgramRun, unwrapSecrets } from "./pulumi-mocks";

export interface CheckedResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

/** "<policy>: <resource name>: <message>", one line per violation, in policy order. */
export type Violation = string;

function urnOf(resource: CheckedResource): string {
  return `urn:pulumi:test::hitcounter::${resource.type}::${resource.name}`;
}

function asPolicyResource(resource: CheckedResource): PolicyResource {
  const notUsed = () => {
    throw new Error("the project's policies read type and props only");
  };
  return { ...resource, urn: urnOf(resource), opts: {}, dependencies: [], propertyDependencies: {}, isType: notUsed, asType: notUsed } as unknown as PolicyResource;
}

export async function violations(policies: Policies, resources: CheckedResource[]): Promise<Violation[]> {
  const found: Violation[] = [];
  const byUrn = new Map(resources.map((resource) => [urnOf(resource), resource.name]));
  for (const policy of policies) {
    if ("validateResource" in policy && policy.validateResource) {
      const validations = [policy.validateResource].flat();
      for (const resource of resources) {
        const args = { ...asPolicyResource(resource), stackTags: new Map() } as unknown as ResourceValidationArgs;
        for (const validate of validations) await validate(args, (message) => found.push(`${policy.name}: ${resource.name}: ${message}`));
      }
    }
    if ("validateStack" in policy && policy.validateStack) {
      const args = { resources: resources.map(asPolicyResource), stackTags: new Map() } as unknown as StackValidationArgs;
      await policy.validateStack(args, (message, urn) => found.push(`${policy.name}: ${byUrn.get(urn ?? "") ?? "(stack)"}: ${message}`));
    }
  }
  return found;
}

/** What a program run declared, as the policy pack sees it during `pulumi up`. */
export function declaredForPolicies(run: ProgramRun): CheckedResource[] {
  return run.resources.map((resource) => ({ type: resource.type, name: resource.name, props: unwrapSecrets(resource.inputs) }));
}
