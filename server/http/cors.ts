/**
 * CORS (option `corsOrigins`), off by default. A browser's preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) from an allowed origin is answered 204 with what it may send; from any other
 * origin, or with CORS off, it is refused 403. Other requests from an allowed origin get
 * `Access-Control-Allow-Origin`, so the page may read the answer; from other origins they get no CORS header,
 * so the browser keeps the answer from the page. No credentials mode: tokens travel in `Authorization`.
 */
import type { Context, Next } from 'koa';
import { HttpError } from './http-error.js';
import { INFERENCE_HEADER } from '../v2/binary.js';

/**
 * What a page may send: the token, the body's type and encoding, the binary extension's header, and ids to
 * correlate by.
 */
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Content-Encoding',
  'Accept',
  INFERENCE_HEADER,
  'X-Request-Id',
  'traceparent',
  'tracestate',
].join(', ');
/** What a page may read beyond the CORS-safelisted response headers. */
const EXPOSE_HEADERS = [INFERENCE_HEADER, 'X-Request-Id', 'traceresponse', 'Retry-After'].join(', ');
/** How long a browser may cache a preflight's answer, in seconds. */
const MAX_AGE = '600';

export function corsMiddleware(origins: readonly string[]) {
  const any = origins.includes('*');
  return async (ctx: Context, next: Next): Promise<void> => {
    const origin = ctx.get('origin');
    const allowed = origin !== '' && (any || origins.includes(origin));
    if (origins.length > 0) ctx.vary('Origin');
    if (ctx.method === 'OPTIONS' && origin !== '' && ctx.get('access-control-request-method') !== '') {
      if (!allowed) {
        throw new HttpError(
          403,
          origins.length === 0
            ? 'Cross-origin requests are not enabled on this server (option corsOrigins, `--cors-origin`)'
            : `Origin ${JSON.stringify(origin)} is not allowed to call this server`,
        );
      }
      ctx.set({
        'Access-Control-Allow-Origin': any ? '*' : origin,
        'Access-Control-Allow-Methods': 'GET, HEAD, POST',
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': MAX_AGE,
      });
      ctx.status = 204;
      return;
    }
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
      ctx.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    await next();
  };
}
