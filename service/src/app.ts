// The service as Koa middleware, composed in order: measure, drain, handle errors, route.
// Everything a request can run into is decided here; server.ts only wires processes and signals.
import http from "node:http";
import Koa, { HttpError, type Context, type Middleware } from "koa";
import { Router } from "@koa/router";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import { StoreUnavailableError, type RedisStore } from "./store";

export interface AppDeps {
  store: Pick<RedisStore, "increment" | "ping">;
  metrics: Metrics;
  log: Logger;
  /** Shown on the page, as the lecture does, to tell which replica answered. */
  hostname: string;
  /** True once shutdown has begun. */
  draining: () => boolean;
}

export function createApp(deps: AppDeps): Koa {
  // Every method Node parses, so a known path asked with any other method gets 405 + Allow
  // rather than the router's 501 for methods it was not told about.
  const router = new Router({ methods: http.METHODS });
  router.get("/", countHit(deps));
  router.get("/healthz", (ctx) => {
    ctx.body = "ok";
  });
  router.get("/readyz", readiness(deps));
  router.get("/metrics", async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  const app = new Koa();
  app.use(recordRequest(deps.metrics, deps.log));
  app.use(closeConnectionsWhileDraining(deps.draining));
  app.use(handleErrors(deps.log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Errors that escape the middleware above (a client hanging up mid-response) end up here.
  app.on("error", (error: Error) => deps.log.error({ err: error }, "response failed"));
  return app;
}

/** GET /: one INCR, and the value it returned, as HTML or, when asked for, JSON. */
function countHit({ store, hostname }: AppDeps): Middleware {
  return async (ctx) => {
    ctx.set("Cache-Control", "no-store");
    ctx.vary("Accept");
    // The router answers HEAD with the GET handler; a HEAD is not a visit, so it must not count.
    if (ctx.method === "HEAD") {
      ctx.status = 200;
      ctx.type = "html";
      return;
    }
    const hits = await store.increment();
    if (ctx.accepts("html", "json") === "json") {
      ctx.body = { hits, pod: hostname };
    } else {
      ctx.type = "html";
      ctx.body = `Hello! This page has been visited ${hits} times. Served by pod: <b>${escapeHtml(hostname)}</b>`;
    }
  };
}

/** GET /readyz: take traffic only if Redis answers and we are not shutting down. */
function readiness({ store, draining }: AppDeps): Middleware {
  return async (ctx) => {
    if (draining()) {
      ctx.status = 503;
      ctx.body = "not ready: shutting down";
      return;
    }
    try {
      await store.ping();
      ctx.body = "ready";
    } catch (error) {
      ctx.status = 503;
      ctx.body = `not ready: ${(error as Error).message}`;
    }
  };
}

/** Counts and times every response by route pattern; logs it at debug, which is off by default. */
function recordRequest(metrics: Metrics, log: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    await next();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeOf(ctx);
    metrics.observeRequest(ctx.method, route, ctx.status, seconds);
    log.debug({ method: ctx.method, path: ctx.path, route, status: ctx.status, ms: seconds * 1000 }, "request");
  };
}

// @koa/router keeps the layers whose path matched, also when the method did not (a 405):
// their pattern is the label. Anything else is one bucket, whatever the URL was.
function routeOf(ctx: Context): string {
  const layers: { path: string | RegExp; methods: string[] }[] | undefined = ctx.matched;
  const route = layers?.find((layer) => layer.methods.length > 0)?.path;
  return typeof route === "string" ? route : "unmatched";
}

/** The one place errors become responses: Redis trouble is a 503, anything unexpected a bare 500. */
function handleErrors(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        // Counted and logged where it happened (the store); at warn here it would flood the log.
        log.debug({ err: error }, "request failed: Redis unavailable");
        ctx.set("Retry-After", "1");
        reply(ctx, 503, "Service Unavailable: the counter store (Redis) is not reachable; try again shortly.");
      } else if (error instanceof HttpError && error.expose) {
        reply(ctx, error.status, error.message);
      } else {
        log.error({ err: error }, "request failed");
        reply(ctx, 500, "Internal Server Error");
      }
    }
  };
}

// The message only: a stack trace tells an attacker more than it tells a user.
function reply(ctx: Context, status: number, message: string): void {
  ctx.status = status;
  if (ctx.accepts("text", "json") === "json") {
    ctx.body = { error: message };
  } else {
    ctx.type = "text";
    ctx.body = message;
  }
}

/**
 * During shutdown, tell clients to reconnect elsewhere: Node then closes the keep-alive socket after
 * the response. Checked when the response is ready, since a slow request may have begun before.
 */
function closeConnectionsWhileDraining(draining: () => boolean): Middleware {
  return async (ctx, next) => {
    await next();
    if (draining()) ctx.set("Connection", "close");
  };
}

const htmlEscapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => htmlEscapes[char]);
}
