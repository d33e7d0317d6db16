/**
 * Times every request into `http_server_request_duration_seconds`, labelled by the route template (never the
 * raw path, which would let clients create unbounded label values), and serves `GET /metrics`.
 */
import type { Context, Next } from 'koa';
import { performance } from 'node:perf_hooks';
import type { ServerMetrics } from '../metrics.js';

export function metricsMiddleware(metrics: ServerMetrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method === 'GET' && ctx.path === '/metrics') {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
      return;
    }
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.requestDuration.observe(
        { http_request_method: ctx.method, http_route: route, http_response_status_code: String(ctx.status) },
        (performance.now() - started) / 1000,
      );
    }
  };
}
