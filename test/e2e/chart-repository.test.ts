// The loopback Helm chart repository scripts/cluster/cluster.sh serves: what Helm reads from it (index.yaml,
// then the package its entry names) is the vendored kube-prometheus-stack at the version Pulumi.yaml
// pins, intact.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import yaml from "js-yaml";
import { LocalCluster } from "../support/local-cluster";
import { projectRoot } from "../support/paths";

interface IndexEntry {
  name: string;
  version: string;
  appVersion: string;
  urls: string[];
  digest: string;
}

describe("end to end: the loopback chart repository", function () {
  it("serves the pinned kube-prometheus-stack as Helm finds it: index entry, package, digest", async function () {
    const repository = new LocalCluster().chartRepository;
    const pinned = (yaml.load(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as { config: { chartVersion: { default: string } } })
      .config.chartVersion.default;
    const index = yaml.load(await (await fetch(`${repository}/index.yaml`)).text()) as { apiVersion: string; entries: Record<string, IndexEntry[]> };
    expect(index.apiVersion).to.equal("v1");
    const [entry] = index.entries["kube-prometheus-stack"];
    expect(entry).to.include({ name: "kube-prometheus-stack", version: pinned });

    const response = await fetch(new URL(entry.urls[0], `${repository}/`));
    expect(response.status).to.equal(200);
    const archive = Buffer.from(await response.arrayBuffer());
    expect(createHash("sha256").update(archive).digest("hex")).to.equal(entry.digest);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "chart-")), "chart.tgz");
    fs.writeFileSync(file, archive);
    try {
      const chart = yaml.load(execFileSync("tar", ["-xzOf", file, "kube-prometheus-stack/Chart.yaml"], { encoding: "utf8" })) as IndexEntry;
      expect(chart).to.include({ name: "kube-prometheus-stack", version: pinned, appVersion: entry.appVersion });
      const members = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).split("\n");
      expect(members).to.include("kube-prometheus-stack/values.yaml");
      // .helmignore'd, as `helm package` leaves them out.
      expect(members.filter((m) => /\/(unittests|hack|ci)\//.test(m))).to.deep.equal([]);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
