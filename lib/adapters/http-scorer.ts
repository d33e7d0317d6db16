/**
 * The HTTP transport under every HTTP codec: an undici Pool with keep-alive, one connection per allowed
 * in-flight request, and a per-request timeout. A non-2xx answer becomes BI_ERR_HTTP_STATUS carrying the
 * server's `{"error"}` text.
 */
import { Pool } from 'undici';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { BatchScorer, HttpCodec } from './types.js';

export interface HttpScorerOptions {
  url: string;
  codec: HttpCodec;
  width: number;
  connections: number;
  timeoutMs: number;
}

function serverMessage(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.toString('utf8').slice(0, 500);
}

export function createHttpScorer(options: HttpScorerOptions): BatchScorer {
  const origin = new URL(options.url);
  const prefix = origin.pathname.replace(/\/$/, '');
  const pool = new Pool(origin.origin, {
    connections: options.connections,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  return {
    async score(tensor, rows, signal) {
      const request = options.codec.encode(tensor, rows, options.width);
      const response = await pool.request({
        method: 'POST',
        path: prefix + request.path,
        headers: request.headers,
        body: request.body,
        ...(signal ? { signal } : {}),
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new BatchInferError(
          ErrorCodes.HTTP_STATUS,
          `Model server answered ${response.statusCode}: ${serverMessage(body)}`,
          { context: { status: response.statusCode } },
        );
      }
      return options.codec.decode({ status: response.statusCode, headers: response.headers, body }, rows);
    },
    async close() {
      await pool.close();
    },
  };
}
