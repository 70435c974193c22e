// renovate.json: valid to Renovate's own validator, and it finds every pin this project keeps
// (Renovate's extraction run on this checkout, offline: extraction reads files, it looks nothing up).
import * as path from "node:path";
import { expect } from "chai";
import { projectRoot } from "../support/paths";
import { pinnedVersions } from "../support/versions";
import { check } from "./run";

const bin = (name: string) => path.join(projectRoot, ".ci", "renovate", "node_modules", ".bin", name);

interface ExtractedDependency {
  depName: string;
  currentValue: string;
}

/** What Renovate would keep up to date, by manager and file: "<manager> <file> <depName>@<version>". */
function extracted(): string[] {
  const { status, output } = check(bin("renovate"), ["--platform=local", "--dry-run=extract", "--onboarding=false"], {
    RENOVATE_CONFIG_FILE: "renovate.json",
    LOG_FORMAT: "json",
    LOG_LEVEL: "debug",
  });
  expect(status, output.slice(-4000)).to.equal(0);
  const logged = output.split("\n").flatMap((line) => (line.startsWith("{") ? [JSON.parse(line) as { msg: string; packageFiles?: Record<string, { packageFile: string; deps: ExtractedDependency[] }[]> }] : []));
  const files = logged.find((entry) => entry.msg === "Extracted dependencies")?.packageFiles ?? {};
  return Object.entries(files).flatMap(([manager, found]) => found.flatMap(({ packageFile, deps }) => deps.map((dep) => `${manager} ${packageFile} ${dep.depName}@${dep.currentValue}`)));
}

describe("Renovate (renovate.json)", () => {
  it("passes renovate-config-validator --strict", () => {
    const { status, output } = check(bin("renovate-config-validator"), ["--strict", "renovate.json"]);
    expect(status, output.slice(-4000)).to.equal(0);
  });

  it("proposes updates to every pin: versions.env, the chart default, the Node image tags and npm", () => {
    const deps = new Set(extracted());
    const pinned = pinnedVersions();
    // A pseudo-version (the provider's release commit) has no release for Renovate to follow: it moves
    // with PULUMI_KUBERNETES_VERSION, by hand, and CI's toolchain build says whether it fits.
    const byHand = ["PULUMI_KUBERNETES_MODULE_VERSION"];
    const versions = Object.entries(pinned).filter(([name]) => name.endsWith("_VERSION") && !byHand.includes(name));
    const fromVersionsEnv = [...deps].filter((dep) => dep.startsWith("regex scripts/versions.env "));
    expect(fromVersionsEnv.map((dep) => dep.split("@").pop()).sort()).to.deep.equal(versions.map(([, version]) => version).sort());
    expect(deps).to.include(`regex Pulumi.yaml kube-prometheus-stack@${pinned.KUBE_PROMETHEUS_STACK_VERSION}`);
    expect(deps).to.include(`regex compose.yaml node@${pinned.NODE_VERSION}-bookworm-slim`);
    expect(deps).to.include(`dockerfile service/Dockerfile node@${pinned.NODE_VERSION}-bookworm-slim`);
    expect(deps).to.include(`npm package.json @pulumi/pulumi@${pinned.PULUMI_VERSION}`);
    expect(deps).to.include(`npm package.json @pulumi/policy@1.21.0`);
  });
});
