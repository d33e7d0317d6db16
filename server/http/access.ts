/**
 * The inference token (option `inferenceToken`). When one is configured, every request wants
 * `Authorization: Bearer <token>` except the health probes (orchestrators carry no secrets), the model
 * repository routes (they want the admin token instead, v2/repository-routes.ts) and `/metrics` when
 * `metricsAccess` is `"open"`. Open paths are compared exactly, so no spelling of a path opens anything else.
 */
import type { Context, Next } from 'koa';
import type { ResolvedServerOptions } from '../options.js';
import { bearerCheck } from './bearer.js';
import { HttpError } from './http-error.js';

/** `isAdminRoute`: true when the request goes to a route with its own (admin) guard. */
export function accessMiddleware(options: ResolvedServerOptions, isAdminRoute: (ctx: Context) => boolean) {
  const token = options.inferenceToken;
  const health = new Set(['/v2/health/live', '/v2/health/ready', '/ping', options.vertexHealthRoute]);
  const check = token === undefined ? undefined : bearerCheck(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    const open =
      check === undefined ||
      ((ctx.method === 'GET' || ctx.method === 'HEAD') && health.has(ctx.path)) ||
      (ctx.path === '/metrics' && options.metricsAccess === 'open') ||
      isAdminRoute(ctx);
    if (!open && !check(ctx.get('authorization'))) {
      throw new HttpError(401, 'A valid `Authorization: Bearer <inference token>` header is required', {
        'WWW-Authenticate': 'Bearer realm="inference"',
      });
    }
    await next();
  };
}
