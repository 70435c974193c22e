// The baselines the service is measured against: the same page from node:http and node-redis with
// nothing else (no framework, routing, metrics or logging), or, given the argument `koa`, from Koa
// with that one middleware, which prices Koa itself apart from what the service adds on top of it.
// PORT and REDIS_URL from the environment.
import http from "node:http";
import os from "node:os";
import { createClient } from "@redis/client";
import Koa from "koa";

// Without node-redis' default 5 s command timeout, which arms an AbortSignal.timeout per command that
// lives (and fires) long after the reply: at 15,000 requests a second that held about 400 MiB of RSS
// and long GC pauses. The service turns it off too (service/src/store.ts).
const client = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
client.on("error", (error: Error) => console.error(error.message));

const hostname = os.hostname();
const htmlType = "text/html; charset=utf-8";
const page = (hits: number) => `Hello! This page has been visited ${hits} times. Served by pod: <b>${hostname}</b>`;

function nodeHandler(): http.RequestListener {
  return (_request, response) => {
    client.incr("hits").then(
      (hits) => {
        response.writeHead(200, { "Content-Type": htmlType });
        response.end(page(hits));
      },
      () => {
        response.writeHead(503).end();
      },
    );
  };
}

// A failed INCR is Koa's default 500 here: the benchmark fails on any failed request anyway.
function koaHandler(): http.RequestListener {
  const app = new Koa();
  app.use(async (ctx) => {
    const hits = await client.incr("hits");
    ctx.res.setHeader("Content-Type", htmlType);
    ctx.body = page(hits);
  });
  return app.callback();
}

const server = http.createServer(process.argv[2] === "koa" ? koaHandler() : nodeHandler());
client.connect().then(() => server.listen(Number(process.env.PORT)));
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void client.close();
});
