// Where alerts go: the alertWebhookUrl key through the real program under mocks, for each kind of
// receiver it accepts; and the chart's admission webhook key.
import { expect } from "chai";
import { declaredResource, isSecretInput, type Manifest, rejectedConfig, runProgram, unwrapSecrets } from "../support/pulumi-mocks";
import { resourceType } from "../support/resource-types";

const credentialFile = "/etc/alertmanager/secrets/alert-receiver/credential";

async function withReceiver(url: string) {
  const run = await runProgram("dev", { config: { alertWebhookUrl: url }, secretKeys: ["alertWebhookUrl"] });
  const values = declaredResource(run, resourceType.release, "kube-prometheus-stack").values;
  const stored = run.resources.find((r) => r.type === resourceType.secret && r.name === "alert-receiver")?.inputs.stringData;
  expect(isSecretInput(stored), "the Secret's data is a Pulumi secret").to.equal(true);
  const credential: string = unwrapSecrets(stored as Manifest).credential;
  return { values, credential, receiver: values.alertmanager.config.receivers[1] as Manifest };
}

describe("alert delivery (alertWebhookUrl)", () => {
  it("routes every alert to a webhook that reads its URL from a mounted Secret, not from the chart values", async () => {
    const url = "https://alerts.example.com/hooks/3f9a?token=abc123";
    const { values, credential } = await withReceiver(url);
    expect(values.alertmanager).to.deep.equal({
      config: {
        route: { receiver: "hit-counter" },
        receivers: [{ name: "null" }, { name: "hit-counter", webhook_configs: [{ url_file: credentialFile, send_resolved: true }] }],
      },
      alertmanagerSpec: { secrets: ["alert-receiver"] },
    });
    expect(credential).to.equal(url);
    expect(JSON.stringify(values)).not.to.contain("abc123");
  });

  it("speaks Slack's format to a Slack incoming webhook", async () => {
    const { receiver } = await withReceiver("https://hooks.slack.com/services/T000/B000/XXXX");
    expect(receiver).to.deep.equal({ name: "hit-counter", slack_configs: [{ api_url_file: credentialFile, send_resolved: true }] });
  });

  it("pages PagerDuty with the routing key as the credential", async () => {
    const key = "0123456789abcdef0123456789ABCDEF";
    const { receiver, credential } = await withReceiver(`pagerduty://${key}`);
    expect(receiver).to.deep.equal({ name: "hit-counter", pagerduty_configs: [{ routing_key_file: credentialFile, send_resolved: true }] });
    expect(credential).to.equal(key);
  });

  it("sends e-mail through an SMTP server over TLS, the password as the credential", async () => {
    const { receiver, credential, values } = await withReceiver("smtp://alerts%40example.com:p%40ss@smtp.example.com?from=alerts@example.com&to=oncall@example.com");
    expect(receiver).to.deep.equal({
      name: "hit-counter",
      email_configs: [
        {
          to: "oncall@example.com",
          from: "alerts@example.com",
          smarthost: "smtp.example.com:587",
          auth_username: "alerts@example.com",
          auth_password_file: credentialFile,
          require_tls: true,
          send_resolved: true,
        },
      ],
    });
    expect(credential).to.equal("p@ss");
    expect(JSON.stringify(values)).not.to.contain("p@ss");
  });

  const refused: [string, string][] = [
    ["ftp://alerts.example.com/secret-token", "an http(s):// webhook URL, https://hooks.slack.com/services/..., pagerduty://<routing key> or smtp://user:password@host:port?from=<address>&to=<address>"],
    ["pagerduty://short-secret-key", "pagerduty://<the 32-character Events API v2 routing key>"],
    ["smtp://user:secret-pass@smtp.example.com?from=alerts@example.com", "smtp://[user:password@]host[:port]?from=<address>&to=<address>"],
  ];
  for (const [url, expected] of refused) {
    it(`refuses ${url.split(":")[0]}:... naming the key and the form, never the value`, async () => {
      const { message, declared } = await rejectedConfig("dev", { config: { alertWebhookUrl: url }, secretKeys: ["alertWebhookUrl"] });
      expect(message).to.equal(`Invalid config hitcounter:alertWebhookUrl: expected ${expected}, got "<secret, not shown>"`);
      expect(declared).to.equal(0);
    });
  }
});

describe("the chart's admission webhook (monitoringAdmissionWebhooks)", () => {
  it("false drops the webhook together with the operator's TLS, which only serves it", async () => {
    const run = await runProgram("dev", { config: { monitoringAdmissionWebhooks: false } });
    const values = declaredResource(run, resourceType.release, "kube-prometheus-stack").values;
    expect(values.prometheusOperator).to.deep.include({ admissionWebhooks: { enabled: false }, tls: { enabled: false } });
  });
});
