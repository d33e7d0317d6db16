/**
 * HTTP compression, both ways, as Triton's HTTP endpoint offers it (its client's `request_compression_algorithm`
 * and `response_compression_algorithm`).
 *
 * Requests: a body sent with `Content-Encoding: gzip` or `deflate` (zlib) is inflated as it streams in, and the
 * body size limit applies to what comes out, so a small body that inflates to gigabytes (a zip bomb) is
 * refused 413 once the limit is passed, without inflating the rest. `identity` is no encoding; anything else is
 * 415, naming what is supported (also in `Accept-Encoding`, RFC 7694).
 *
 * Responses: a body of at least `threshold` bytes is compressed when the request's `Accept-Encoding` prefers
 * gzip or deflate to identity; every answer with a body carries `Vary: Accept-Encoding`, so a cache keeps the
 * two forms apart. Requests without `Accept-Encoding` cost one header lookup; small answers are never
 * compressed, and large ones are compressed at level 1 (as nginx's default) on libuv's thread pool, so the
 * main thread does not wait for zlib.
 */
import type { IncomingMessage } from 'node:http';
import { Stream } from 'node:stream';
import { constants, createGunzip, createInflate, deflate, gzip, type Gunzip, type Inflate } from 'node:zlib';
import type { Context, Next } from 'koa';
import { HttpError } from './http-error.js';

/** Request body encodings that are inflated; `identity` is accepted as no encoding. A Map: no inherited keys. */
const DECODERS: ReadonlyMap<string, () => Gunzip | Inflate> = new Map([
  ['gzip', createGunzip],
  ['x-gzip', createGunzip],
  ['deflate', createInflate],
]);

/**
 * The inflating stream for a request's `Content-Encoding`, undefined for none (or `identity`), or the 415 error
 * to answer for an encoding that is not supported (or several stacked).
 */
export function requestDecoder(
  contentEncoding: string | undefined,
): Gunzip | Inflate | HttpError | undefined {
  if (contentEncoding === undefined) return undefined;
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return undefined;
  const make = DECODERS.get(encoding);
  if (make === undefined) {
    return new HttpError(
      415,
      `Content-Encoding ${JSON.stringify(contentEncoding.slice(0, 100))} is not supported: send gzip, deflate or identity`,
      { 'Accept-Encoding': 'gzip, deflate, identity' },
    );
  }
  return make();
}

/**
 * Reads a compressed request body through `decoder`, refusing it (413) once more than `limit` bytes have come
 * out, or more than `limit` bytes have gone in (many empty gzip members inflate to nothing). A refused or
 * corrupt body is still read to its end, into nothing, so the connection can carry the next request.
 */
export function readDecodedBody(
  req: IncomingMessage,
  decoder: Gunzip | Inflate,
  limit: number,
  tooLarge: () => HttpError,
): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding']).trim().toLowerCase();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let received = 0;
    let settled = false;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      req.unpipe(decoder);
      decoder.destroy();
      req.resume();
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) fail(tooLarge());
    });
    // An empty body is empty whatever its declared encoding (zlib would call it truncated).
    req.once('end', () => {
      if (received > 0 || settled) return;
      settled = true;
      decoder.destroy();
      resolve(Buffer.alloc(0));
    });
    req.once('error', () =>
      fail(new HttpError(400, 'The request body was not received completely: the connection was closed')),
    );
    req.once('close', () => {
      if (!req.complete)
        fail(new HttpError(400, 'The request body was not received completely: the connection was closed'));
    });
    decoder.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(tooLarge());
      else chunks.push(chunk);
    });
    decoder.once('error', (err) =>
      fail(new HttpError(400, `The request body is not valid ${encoding} data: ${err.message}`)),
    );
    decoder.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.pipe(decoder);
  });
}

/** Fast rather than small: level 1 makes float-heavy JSON ~3 % larger than level 6, in a quarter of the time. */
const ZLIB_OPTIONS = { level: constants.Z_BEST_SPEED };

/** Compresses on libuv's thread pool. */
export function compress(encoding: 'gzip' | 'deflate', data: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err === null ? resolve(out) : reject(err));
    if (encoding === 'gzip') gzip(data, ZLIB_OPTIONS, done);
    else deflate(data, ZLIB_OPTIONS, done);
  });
}

/** Responses of at least this many bytes are compressed for clients that accept gzip or deflate. */
export const COMPRESSION_THRESHOLD = 1024;

/** Responses of at least `threshold` bytes are compressed for clients that accept gzip or deflate. */
export function compressionMiddleware(threshold = COMPRESSION_THRESHOLD) {
  return async (ctx: Context, next: Next): Promise<void> => {
    await next();
    const body: unknown = ctx.body;
    if (body === null || body === undefined || ctx.method === 'HEAD' || ctx.status === 204) return;
    // Koa's ctx.vary parses the header it appends to; most answers have none yet.
    if (ctx.res.hasHeader('vary')) ctx.vary('Accept-Encoding');
    else ctx.res.setHeader('Vary', 'Accept-Encoding');
    if (ctx.req.headers['accept-encoding'] === undefined || body instanceof Stream) return;
    const cacheControl = ctx.res.getHeader('cache-control');
    if (
      ctx.res.hasHeader('content-encoding') ||
      (typeof cacheControl === 'string' && /\bno-transform\b/i.test(cacheControl))
    )
      return;
    // Koa would write an object as this JSON text when responding; it is made here to know its size.
    let data: string | Buffer;
    if (typeof body === 'string' || Buffer.isBuffer(body)) data = body;
    else ctx.body = data = JSON.stringify(body);
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (length < threshold) return;
    const encoding = ctx.acceptsEncodings('gzip', 'deflate', 'identity');
    if (encoding !== 'gzip' && encoding !== 'deflate') return;
    const compressed = await compress(encoding, data);
    ctx.body = compressed;
    ctx.set('Content-Encoding', encoding);
  };
}
