// The service as Koa middleware, composed in order: measure, drain, handle errors, route.
// Everything a request can run into is decided here; server.ts only wires processes and signals.
import Koa, { HttpError, type Context, type Middleware } from "koa";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import { StoreUnavailableError, type CounterStore } from "./store";

export interface AppDeps {
  store: Pick<CounterStore, "increment" | "ping">;
  metrics: Metrics;
  log: Logger;
  /** Shown on the page, to tell which replica answered. */
  hostname: string;
  /** True once shutdown has begun. */
  draining: () => boolean;
}

// Routes the platform calls, not users: their requests go to the probe counter (metrics.ts).
const probeRoutes = new Set(["/healthz", "/readyz", "/metrics"]);

export function createApp(deps: AppDeps): Koa {
  const routes = new Map<string, Middleware>([
    ["/", countHit(deps)],
    ["/healthz", live],
    ["/readyz", readiness(deps)],
    ["/metrics", exposeMetrics(deps.metrics)],
  ]);

  const app = new Koa();
  app.use(recordRequest(deps.metrics, deps.log));
  app.use(closeConnectionsWhileDraining(deps.draining));
  app.use(handleErrors(deps.log));
  app.use(route(routes));
  // Errors that escape the middleware above (a client hanging up mid-response) end up here.
  app.on("error", (error: Error) => deps.log.error({ err: error }, "response failed"));
  return app;
}

const allowed = "HEAD, GET";

/**
 * Four fixed GET routes need no router: a map lookup, matched as @koa/router matched them (case
 * and a trailing slash ignored). Another method on a known path: 405 with Allow (OPTIONS: 200 with
 * Allow); an unknown path falls through to Koa's 404. The matched path is the route's label.
 */
function route(routes: Map<string, Middleware>): Middleware {
  return (ctx, next) => {
    let path = ctx.path.toLowerCase();
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const handler = routes.get(path);
    if (!handler) return next();
    ctx.state.route = path;
    if (ctx.method === "GET" || ctx.method === "HEAD") {
      // A GET's body has no meaning here; refused before the handler, so it never counts a visit.
      if (hasBody(ctx)) {
        ctx.status = 413;
        ctx.body = "Payload Too Large: this service takes no request body.";
        ctx.set("Connection", "close");
        return;
      }
      return handler(ctx, next);
    }
    ctx.set("Allow", allowed);
    if (ctx.method === "OPTIONS") {
      ctx.status = 200;
      ctx.body = "";
    } else {
      ctx.status = 405;
    }
  };
}

function hasBody(ctx: Context): boolean {
  return ctx.get("Transfer-Encoding") !== "" || Number(ctx.get("Content-Length") || 0) > 0;
}

/** GET /: one INCR, and the value it returned, as HTML or, when asked for, JSON. */
function countHit({ store, hostname }: AppDeps): Middleware {
  const escapedHostname = escapeHtml(hostname);
  return async (ctx) => {
    // Fixed headers straight onto Node's response: Koa's ctx.set builds an array of entries and
    // normalizes each value on every call, for strings that never change.
    ctx.res.setHeader("Cache-Control", "no-store");
    ctx.res.setHeader("Vary", "Accept");
    // HEAD runs the GET handler (route()); a HEAD is not a visit, so it must not count.
    if (ctx.method === "HEAD") {
      ctx.status = 200;
      ctx.res.setHeader("Content-Type", htmlType);
      return;
    }
    const hits = await store.increment();
    if (prefersJson(ctx)) {
      ctx.body = { hits, pod: hostname };
    } else {
      ctx.res.setHeader("Content-Type", htmlType);
      ctx.body = `Hello! This page has been visited ${hits} times. Served by pod: <b>${escapedHostname}</b>`;
    }
  };
}

// Set as a header rather than `ctx.type = "html"`, which looks the type up on every request.
const htmlType = "text/html; charset=utf-8";

// JSON only when the client prefers it over HTML. Most clients send no Accept header or `*/*`, which
// mean HTML: those skip the content negotiation.
function prefersJson(ctx: Context): boolean {
  const accept = ctx.get("Accept");
  return accept !== "" && accept !== "*/*" && ctx.accepts("html", "json") === "json";
}

/** GET /healthz: the process serves; never asks Redis, so a Redis outage restarts no pod. */
const live: Middleware = (ctx) => {
  ctx.body = "ok";
};

/** GET /metrics: what Prometheus scrapes. */
function exposeMetrics(metrics: Metrics): Middleware {
  return async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
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

/**
 * Counts and times every response by route pattern, probes and scrapes apart from traffic; logs it
 * at debug, which is off by default.
 */
function recordRequest(metrics: Metrics, log: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(ctx);
    if (probeRoutes.has(route)) metrics.observeProbe(route, ctx.status);
    else metrics.observeRequest(ctx.method, route, ctx.status, seconds);
    // Guarded: the line's object would be built for nothing at the default level.
    if (log.isLevelEnabled("debug")) log.debug({ method: ctx.method, path: ctx.path, route, status: ctx.status, ms: seconds * 1000 }, "request");
  };
}

function routeOf(ctx: Context): string {
  return typeof ctx.state.route === "string" ? ctx.state.route : "unmatched";
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
        reply(ctx, 503, `Service Unavailable: ${error.publicReason}; try again shortly.`);
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
