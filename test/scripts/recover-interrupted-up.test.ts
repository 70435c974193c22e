// The repair plan for an interrupted `pulumi up`, from a stack export's pending operations. The repair
// itself runs against the real CLI in test/e2e/interrupted-up.test.ts.
import { expect } from "chai";
import { type ExportedStack, recoveryPlan } from "../../scripts/stack/recover-interrupted-up";

const urn = (type: string, name: string) => `urn:pulumi:dev::hitcounter::${type}::${name}`;

function pending(type: string, resourceType: string, name: string, inputs: Record<string, unknown>) {
  return { type, resource: { urn: urn(resourceType, name), type: resourceType, inputs } };
}

describe("npm run stack:recover: what an interrupted `pulumi up` leaves, and how it is repaired", function () {
  it("imports each interrupted Kubernetes create by namespace/name, a cluster-scoped one by name, a Helm release by its own fields", function () {
    const stack: ExportedStack = {
      deployment: {
        pending_operations: [
          pending("creating", "kubernetes:apps/v1:Deployment", "hit-counter", { metadata: { name: "hit-counter", namespace: "hitcounter-dev" } }),
          pending("creating", "kubernetes:core/v1:Namespace", "hitcounter-dev", { metadata: { name: "hitcounter-dev" } }),
          pending("creating", "kubernetes:helm.sh/v3:Release", "kps", { name: "hitcounter-dev-kps", namespace: "hitcounter-dev-monitoring" }),
        ],
      },
    };
    expect(recoveryPlan(stack)).to.deep.equal({
      imports: [
        [urn("kubernetes:apps/v1:Deployment", "hit-counter"), "hitcounter-dev/hit-counter"],
        [urn("kubernetes:core/v1:Namespace", "hitcounter-dev"), "hitcounter-dev"],
        [urn("kubernetes:helm.sh/v3:Release", "kps"), "hitcounter-dev-monitoring/hitcounter-dev-kps"],
      ],
      cleared: [],
    });
  });

  it("clears an interrupted image build and an object without a fixed name, which the next `up` redoes", function () {
    const stack: ExportedStack = {
      deployment: {
        pending_operations: [
          pending("creating", "docker:index/image:Image", "hit-counter", { imageName: "127.0.0.1:5000/hit-counter:dev" }),
          pending("creating", "kubernetes:core/v1:ConfigMap", "dashboard", { metadata: {} }),
        ],
      },
    };
    expect(recoveryPlan(stack)).to.deep.equal({
      imports: [],
      cleared: [urn("docker:index/image:Image", "hit-counter"), urn("kubernetes:core/v1:ConfigMap", "dashboard")],
    });
  });

  it("leaves interrupted updates and deletes to `pulumi refresh`, and a clean stack alone", function () {
    const stack: ExportedStack = {
      deployment: {
        pending_operations: [pending("updating", "kubernetes:apps/v1:Deployment", "hit-counter", { metadata: { name: "hit-counter", namespace: "ns" } })],
      },
    };
    expect(recoveryPlan(stack)).to.deep.equal({ imports: [], cleared: [] });
    expect(recoveryPlan({ deployment: {} })).to.deep.equal({ imports: [], cleared: [] });
  });
});
