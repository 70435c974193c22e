// The baseline the service is measured against: the same page from node:http and node-redis with
// nothing else (no framework, routing, metrics or logging). PORT and REDIS_URL from the environment.
import http from "node:http";
import os from "node:os";
import { createClient } from "@redis/client";

// Without node-redis' default 5 s command timeout, which arms an AbortSignal.timeout per command that
// lives (and fires) long after the reply: at 15,000 requests a second that held about 400 MiB of RSS
// and long GC pauses. The service turns it off too (service/src/store.ts).
const client = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
client.on("error", (error: Error) => console.error(error.message));

const hostname = os.hostname();
const server = http.createServer((_request, response) => {
  client.incr("hits").then(
    (hits) => {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(`Hello! This page has been visited ${hits} times. Served by pod: <b>${hostname}</b>`);
    },
    () => {
      response.writeHead(503).end();
    },
  );
});

client.connect().then(() => server.listen(Number(process.env.PORT)));
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void client.close();
});
