// The alerting as Prometheus and Alertmanager read it, checked by their own tools (promtool and
// amtool, built by scripts/toolchain/tools.sh): the PrometheusRule each stack declares, its unit tests
// (alerts.test.yaml), every dashboard query, and Alertmanager's configuration for each kind of
// receiver, merged into the vendored chart's default as Helm merges values.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import yaml from "js-yaml";
import { Metrics } from "../../service/src/metrics";
import { helmMerge } from "../../components/monitoring/helm-values";
import { projectRoot } from "../support/paths";
import { declaredResource, type Manifest, runProgram } from "../support/pulumi-mocks";
import { resourceType } from "../support/resource-types";

const run = promisify(execFile);
const bin = path.join(projectRoot, ".tools", "bin");
const chartValuesFile = path.join(projectRoot, "..", "shared", "thirdparty", "charts", "kube-prometheus-stack", "values.yaml");

/** Runs a built tool, with `input` on its stdin; its output on failure, so a rejected rule names itself. */
async function tool(name: "promtool" | "amtool", args: string[], input?: string): Promise<string> {
  try {
    const child = run(path.join(bin, name), args, { cwd: workDir });
    child.child.stdin?.end(input ?? "");
    const { stdout, stderr } = await child;
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${name} ${args.join(" ")} failed:\n${failed.stdout ?? ""}${failed.stderr ?? failed.message}`, { cause: error });
  }
}

let workDir: string;

function write(name: string, content: unknown): string {
  const file = path.join(workDir, name);
  fs.writeFileSync(file, typeof content === "string" ? content : yaml.dump(content, { lineWidth: -1 }));
  return file;
}

describe("alerting, checked by promtool and amtool", function () {
  this.timeout(120_000);

  before(() => {
    for (const name of ["promtool", "amtool"]) {
      if (!fs.existsSync(path.join(bin, name))) throw new Error(`no ${name} in .tools/bin: run scripts/toolchain/tools.sh first (it builds promtool and amtool)`);
    }
    if (!fs.existsSync(chartValuesFile)) throw new Error(`no chart at ${path.dirname(chartValuesFile)}: this suite needs ../shared/thirdparty beside the clone`);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "hitcounter-rules-"));
  });

  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  for (const [stack, config] of [["dev", {}], ["prod", { registryPassword: "x" }], ["dev", { cpuTargetUtilization: 0, memoryTargetUtilization: 0 }]] as const) {
    const label = `${stack}${Object.keys(config).includes("cpuTargetUtilization") ? " without an HPA" : ""}`;
    it(`accepts the PrometheusRule the ${label} stack declares`, async () => {
      const program = await runProgram(stack, { config, secretKeys: ["registryPassword"] });
      const rule = declaredResource(program, resourceType.prometheusRule, "hit-counter");
      const file = write(`${stack}-${Object.keys(config).length}.rules.yaml`, { groups: rule.spec.groups });
      expect(await tool("promtool", ["check", "rules", "--lint=all", "--lint-fatal", file])).to.match(/SUCCESS: \d+ rules found/);
    });
  }

  it("fires every alert on the series that should fire it, and no other (alerts.test.yaml)", async () => {
    const program = await runProgram("dev");
    const rule = declaredResource(program, resourceType.prometheusRule, "hit-counter");
    write("hit-counter.rules.yaml", { groups: rule.spec.groups });
    fs.copyFileSync(path.join(__dirname, "alerts.test.yaml"), path.join(workDir, "alerts.test.yaml"));
    const output = await tool("promtool", ["test", "rules", "alerts.test.yaml"]);
    expect(output).to.contain("SUCCESS");
    // Every alert the stack declares has a test that fires it.
    const tests = yaml.load(fs.readFileSync(path.join(__dirname, "alerts.test.yaml"), "utf8")) as Manifest;
    const fired = new Set(tests.tests.flatMap((t: Manifest) => t.alert_rule_test.filter((a: Manifest) => a.exp_alerts.length > 0).map((a: Manifest) => a.alertname)));
    expect([...fired].sort()).to.deep.equal(rule.spec.groups[0].rules.map((r: Manifest) => r.alert).sort());
  });

  // prom-client's default Node metrics are its own (three gauges end in _total); these are ours.
  it("finds nothing to correct in the service's own metrics (promtool check metrics)", async () => {
    const metrics = new Metrics();
    metrics.observeRequest("GET", "/", 200, 0.002);
    metrics.observeRequest("GET", "/", 503, 0.001);
    metrics.observeProbe("/readyz", 503);
    metrics.countRedisError("connection");
    const ours = /^(# (HELP|TYPE) )?(http|redis)_/;
    const exposition = (await metrics.registry.metrics()).split("\n").filter((line) => ours.test(line)).join("\n") + "\n";
    expect(exposition).to.contain("http_probe_requests_total{").and.contain("redis_errors_total{");
    expect(await tool("promtool", ["check", "metrics"], exposition)).to.equal("");
  });

  it("parses every dashboard query as PromQL", async () => {
    const program = await runProgram("dev");
    const dashboard = JSON.parse(declaredResource(program, resourceType.configMap, "hit-counter-dashboard").data["hit-counter.json"]);
    const queries: string[] = dashboard.panels.flatMap((panel: Manifest) => panel.targets.map((t: Manifest) => t.expr));
    expect(queries).to.have.length(13);
    // As recording rules, which promtool parses; Grafana's $__range becomes a range Prometheus knows.
    const rules = queries.map((expr, i) => ({ record: `hitcounter:panel_query_${i}`, expr: expr.replaceAll("$__range", "30m") }));
    const file = write("dashboard.rules.yaml", { groups: [{ name: "dashboard", rules }] });
    expect(await tool("promtool", ["check", "rules", file])).to.contain(`SUCCESS: ${queries.length} rules found`);
  });

  const receivers = {
    webhook: "https://alerts.example.com/hooks/1?token=t",
    Slack: "https://hooks.slack.com/services/T0/B0/X",
    PagerDuty: `pagerduty://${"a1".repeat(16)}`,
    "e-mail": "smtp://alerts:pw@smtp.example.com:587?from=alerts@example.com&to=oncall@example.com",
  };
  for (const [kind, url] of Object.entries(receivers)) {
    it(`gives Alertmanager a valid configuration for a ${kind} receiver`, async () => {
      const program = await runProgram("dev", { config: { alertWebhookUrl: url }, secretKeys: ["alertWebhookUrl"] });
      const values = declaredResource(program, resourceType.release, "kube-prometheus-stack").values;
      const chart = yaml.load(fs.readFileSync(chartValuesFile, "utf8")) as Manifest;
      const config = helmMerge(chart.alertmanager.config, values.alertmanager.config) as Manifest;
      const output = await tool("amtool", ["check-config", write(`alertmanager-${kind}.yaml`, config)]);
      expect(output).to.contain("SUCCESS").and.match(/- 2 receivers/);
      expect(config.route.receiver).to.equal("hit-counter");
      // The chart's heartbeat alert still goes nowhere.
      expect(config.route.routes).to.deep.equal(chart.alertmanager.config.route.routes);
    });
  }
});
