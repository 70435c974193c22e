// A webhook receiver on this host: what an alertWebhookUrl endpoint would get from Alertmanager. It
// listens on the real node's own address on the pods' bridge, where the Alertmanager pod reaches it.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** One alert of a notification, as Alertmanager's webhook JSON carries it. */
export interface NotifiedAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export class AlertWebhook {
  readonly alerts: { at: number; alert: NotifiedAlert }[] = [];
  private constructor(
    private readonly server: http.Server,
    private readonly host: string,
  ) {}

  static async start(host: string): Promise<AlertWebhook> {
    const webhook: AlertWebhook = new AlertWebhook(
      http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk));
        request.on("end", () => {
          const notification = JSON.parse(body) as { alerts: NotifiedAlert[] };
          for (const alert of notification.alerts) webhook.alerts.push({ at: Date.now(), alert });
          response.end();
        });
      }),
      host,
    );
    await new Promise<void>((resolve) => webhook.server.listen(0, host, resolve));
    return webhook;
  }

  get url(): string {
    return `http://${this.host}:${(this.server.address() as AddressInfo).port}/alerts`;
  }

  /** The first notification of `alertname` in `status` received at or after `since` (ms epoch). */
  received(alertname: string, status: NotifiedAlert["status"], since: number): { at: number; alert: NotifiedAlert } | undefined {
    return this.alerts.find((n) => n.at >= since && n.alert.labels.alertname === alertname && n.alert.status === status);
  }

  close(): void {
    this.server.close();
  }
}
