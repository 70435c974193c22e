// What Prometheus scrapes: Node's process metrics plus the service's own request and Redis counters,
// in a registry of the service's own so tests and other modules never share global state.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RedisErrorKind } from "./store";

type RequestLabel = "method" | "route" | "status";

export class Metrics {
  readonly registry = new Registry();

  // Buckets around the expected latency of one INCR on a local network (sub-millisecond to 1 s).
  // Labels are the route pattern, never the raw path, so random URLs cannot grow the series count.
  private readonly duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from request to response, by method, route and status code.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  // Every answered request is one observation of the histogram above, so this counter is its count,
  // copied when scraped instead of hashing a second label set on every request.
  private readonly requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
    collect: async () => {
      const counts = (await this.duration.get()).values.filter((value) => value.metricName === "http_request_duration_seconds_count");
      this.requests.reset();
      for (const { labels, value } of counts) this.requests.inc(labels, value);
    },
  });

  // Kubelet probes and Prometheus scrapes are not traffic: counted apart, so the request rate and
  // the error ratio mean what users got. /readyz answers 503 on purpose while a pod drains.
  private readonly probes = new Counter({
    name: "http_probe_requests_total",
    help: "Kubelet probes (/healthz, /readyz) and Prometheus scrapes (/metrics), by route and status; not in http_requests_total.",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });

  private readonly redisErrors = new Counter({
    name: "redis_errors_total",
    help: "Redis connection failures and failed commands.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  // The histogram bound to each method/route/status once: prom-client still hashes the labels on
  // every observe(), but building and validating a label object per request is saved. Few entries:
  // methods Node parses x five routes x the statuses the service answers.
  private readonly series = new Map<string, Histogram.Internal<RequestLabel>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.series.get(key);
    if (!series) {
      series = this.duration.labels({ method, route, status: String(status) });
      this.series.set(key, series);
    }
    series.observe(seconds);
  }

  observeProbe(route: string, status: number): void {
    this.probes.inc({ route, status: String(status) });
  }

  countRedisError(kind: RedisErrorKind): void {
    this.redisErrors.inc({ kind });
  }
}
