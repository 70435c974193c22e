// One source per version: scripts/versions.env. The files that must name a version again (npm's
// manifest, the stack's chart pin, the service image's default base) agree with it.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import yaml from "js-yaml";
import { projectRoot } from "../support/paths";
import { pinnedVersions } from "../support/versions";

const read = (file: string) => fs.readFileSync(path.join(projectRoot, file), "utf8");

describe("pinned versions (scripts/versions.env)", () => {
  const pinned = pinnedVersions();

  it("asks npm for the Pulumi CLI and providers that scripts/toolchain/tools.sh builds", () => {
    const { dependencies } = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    expect({
      "@pulumi/pulumi": dependencies["@pulumi/pulumi"],
      "@pulumi/kubernetes": dependencies["@pulumi/kubernetes"],
      "@pulumi/docker": dependencies["@pulumi/docker"],
    }).to.deep.equal({
      "@pulumi/pulumi": pinned.PULUMI_VERSION,
      "@pulumi/kubernetes": pinned.PULUMI_KUBERNETES_VERSION,
      "@pulumi/docker": pinned.PULUMI_DOCKER_VERSION,
    });
  });

  it("pins the chart version the stacks install", () => {
    const project = yaml.load(read("Pulumi.yaml")) as { config: Record<string, { default: unknown }> };
    expect(String(project.config.chartVersion.default)).to.equal(pinned.KUBE_PROMETHEUS_STACK_VERSION);
  });

  it("builds the service on the Node version the project runs on, in the Dockerfile and compose.yaml alike", () => {
    for (const file of ["service/Dockerfile", "compose.yaml"]) {
        const tags = [...read(file).matchAll(/node:(\d+\.\d+\.\d+)-bookworm-slim/g)].map(([, version]) => version);
      expect(tags.length, file).to.be.greaterThan(0);
      expect(new Set(tags), file).to.deep.equal(new Set([pinned.NODE_VERSION]));
    }
    const { devDependencies } = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
    expect(devDependencies["@types/node"].split(".")[0], "@types/node major").to.equal(pinned.NODE_VERSION.split(".")[0]);
  });
});
