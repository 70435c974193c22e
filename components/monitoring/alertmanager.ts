// Where alerts go: the Alertmanager receiver for the stack's alertWebhookUrl, as chart values. The
// credential stays out of the values (and so out of the Helm release's stored manifest): it is a
// Secret that the chart mounts into Alertmanager, read through the receiver's *_file field.
import type { AlertReceiver } from "../config";

/** The Secret holding the receiver's credential, in the monitoring namespace. */
export const alertReceiverSecret = { name: "alert-receiver", key: "credential" };
// Where the chart's alertmanagerSpec.secrets mounts it.
const credentialFile = `/etc/alertmanager/secrets/${alertReceiverSecret.name}/${alertReceiverSecret.key}`;
const receiverName = "hit-counter";

function receiverConfig(receiver: AlertReceiver): Record<string, unknown> {
  // send_resolved: the receiver also hears when an alert stops firing.
  switch (receiver.kind) {
    case "webhook":
      return { webhook_configs: [{ url_file: credentialFile, send_resolved: true }] };
    case "slack":
      return { slack_configs: [{ api_url_file: credentialFile, send_resolved: true }] };
    case "pagerduty":
      return { pagerduty_configs: [{ routing_key_file: credentialFile, send_resolved: true }] };
    case "email":
      return {
        email_configs: [
          {
            to: receiver.to,
            from: receiver.from,
            smarthost: receiver.smarthost,
            ...(receiver.username ? { auth_username: receiver.username, auth_password_file: credentialFile } : {}),
            require_tls: true,
            send_resolved: true,
          },
        ],
      };
  }
}

/**
 * Chart values routing every alert to the receiver. Helm merges maps and replaces lists: the route's
 * other settings and its Watchdog sub-route (to "null", the chart's heartbeat alert) stay the chart's.
 */
export function alertmanagerValues(receiver: AlertReceiver | undefined) {
  if (!receiver) return {};
  return {
    alertmanager: {
      config: {
        route: { receiver: receiverName },
        receivers: [{ name: "null" }, { name: receiverName, ...receiverConfig(receiver) }],
      },
      alertmanagerSpec: { secrets: [alertReceiverSecret.name] },
    },
  };
}
