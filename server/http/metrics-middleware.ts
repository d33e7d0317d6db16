/**
 * Times every request into `http_server_request_duration_seconds`, labelled by the route template (never the
 * raw path, which would let clients create unbounded label values), counts the requests being handled in
 * `http_server_active_requests` (OpenTelemetry's `http.server.active_requests`), and serves `GET /metrics`.
 * Scrapes of `/metrics` are neither timed nor counted.
 */
import type { Context, Next } from 'koa';
import { performance } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { ServerMetrics } from '../metrics.js';

const isScrape = (ctx: Context) => ctx.method === 'GET' && ctx.path === '/metrics';

/**
 * `http_server_active_requests` of the server's registry, made on first use (by the HTTP server, not by
 * createServerMetrics: a registry without HTTP has no such gauge).
 */
export function activeRequests(metrics: ServerMetrics): Gauge {
  const name = 'http_server_active_requests';
  const existing = metrics.registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Gauge;
  return new Gauge({
    name,
    help: 'HTTP requests being handled: headers received, answer not yet ready.',
    registers: [metrics.registry],
  });
}

export function metricsMiddleware(metrics: ServerMetrics) {
  const active = activeRequests(metrics);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (isScrape(ctx)) {
      await next();
      return;
    }
    const started = performance.now();
    active.inc();
    try {
      await next();
    } finally {
      active.dec();
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.requestDuration.observe(
        { http_request_method: ctx.method, http_route: route, http_response_status_code: String(ctx.status) },
        (performance.now() - started) / 1000,
      );
    }
  };
}

/** `GET /metrics` in Prometheus text format; mounted where the access checks have already run. */
export function metricsEndpoint(metrics: ServerMetrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!isScrape(ctx)) {
      await next();
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}
