/**
 * The HTTP transport under every HTTP codec: an undici Pool with keep-alive, one connection per allowed
 * in-flight request, a per-attempt timeout, and retries of transient failures (lib/core/retry.ts). A non-2xx
 * answer that is not retried, or still fails after the last retry, becomes BI_ERR_HTTP_STATUS carrying the
 * status and the server's `{"error"}` text; a 400/422 is left to the ModelScorer, which bisects the batch.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { BatchInferError, ErrorCodes } from '../errors.js';
import { integerOption, refuseUnknownKeys, requiredOption, stringOption } from '../core/options.js';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableErrorCode,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from '../core/retry.js';
import type { BatchScorer, HttpCodec } from './types.js';

export interface HttpScorerOptions {
  /** Server base URL; a path in it prefixes every request path. Required. */
  url: string;
  /** Encodes batches and decodes answers for one model API. Required. */
  codec: HttpCodec;
  /** Features per row. Required. */
  width: number;
  /**
   * Pooled keep-alive connections (match the ModelScorer's concurrency).
   * @default 4
   */
  connections?: number;
  /**
   * Per-attempt timeout in milliseconds, from sending the request to the end of the answer.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt, for network errors, timeouts, 408, 429 and 5xx.
   * @default 3
   */
  retries?: number;
  /**
   * Backoff of the first retry in milliseconds (full jitter; doubles per retry, at most 10 s).
   * @default 100
   */
  retryBaseDelayMs?: number;
  /** Called before each retry, with why and how long it waits (for logs and tests). */
  onRetry?: (event: RetryEvent) => void;
  /** Called after each attempt (each HTTP request), with how it ended and how long it took (for metrics). */
  onAttempt?: (event: AttemptEvent) => void;
}

export interface AttemptEvent {
  /** `timeout`: no answer within `timeoutMs`; `error`: a non-2xx answer or a failed connection. */
  outcome: 'success' | 'error' | 'timeout';
  durationMs: number;
}

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
}

const KNOWN = [
  'url',
  'codec',
  'width',
  'connections',
  'timeoutMs',
  'retries',
  'retryBaseDelayMs',
  'onRetry',
  'onAttempt',
] as const;

function serverMessage(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.toString('utf8').slice(0, 500);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** One attempt's failure: the error to throw if no retry follows, and whether a retry may. */
interface Failure {
  error: BatchInferError;
  retryable: boolean;
  retryAfterMs?: number;
  timedOut?: boolean;
}

export function createHttpScorer(options: HttpScorerOptions): BatchScorer {
  refuseUnknownKeys('createHttpScorer', options, KNOWN);
  const origin = new URL(requiredOption('url', stringOption('url', options.url)));
  const width = integerOption('width', requiredOption('width', options.width), 0, 1);
  const codec = requiredOption('codec', options.codec);
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 30_000, 1);
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    retries: integerOption('retries', options.retries, DEFAULT_RETRY_POLICY.retries, 0, 100),
    baseDelayMs: integerOption(
      'retryBaseDelayMs',
      options.retryBaseDelayMs,
      DEFAULT_RETRY_POLICY.baseDelayMs,
      0,
    ),
  };
  const { onRetry, onAttempt } = options;
  const prefix = origin.pathname.replace(/\/$/, '');
  const pool = new Pool(origin.origin, {
    connections: integerOption('connections', options.connections, 4, 1, 1024),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  async function timedAttempt(
    tensor: Float32Array,
    rows: number,
    signal: AbortSignal | undefined,
  ): Promise<Float32Array | Failure> {
    const started = performance.now();
    const settle = (outcome: AttemptEvent['outcome']): void =>
      onAttempt?.({ outcome, durationMs: performance.now() - started });
    try {
      const result = await attempt(tensor, rows, signal);
      settle(result instanceof Float32Array ? 'success' : result.timedOut === true ? 'timeout' : 'error');
      return result;
    } catch (err) {
      settle('error');
      throw err;
    }
  }

  async function attempt(
    tensor: Float32Array,
    rows: number,
    signal: AbortSignal | undefined,
  ): Promise<Float32Array | Failure> {
    const request = codec.encode(tensor, rows, width);
    // undici's own timeouts bound each phase; this one bounds the whole attempt, as `timeout` promises.
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await pool.request({
        method: 'POST',
        path: prefix + request.path,
        headers: request.headers,
        body: request.body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const status = response.statusCode;
      if (status >= 200 && status < 300)
        return codec.decode({ status, headers: response.headers, body }, rows);
      const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'), Date.now());
      return {
        error: new BatchInferError(
          ErrorCodes.HTTP_STATUS,
          `Model server answered ${status}: ${serverMessage(body)}`,
          { context: { status } },
        ),
        retryable: isRetryableStatus(status),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    } catch (cause) {
      if (signal?.aborted) throw cause;
      if (cause instanceof BatchInferError) throw cause; // the codec could not read a 2xx answer
      const code = (cause as { code?: string }).code;
      const timedOut = timeout.aborted;
      if (!timedOut && !isRetryableErrorCode(code)) throw cause;
      const what = timedOut
        ? `no answer within ${timeoutMs} ms`
        : `${code ?? ''} ${(cause as Error).message}`;
      return {
        error: new BatchInferError(ErrorCodes.HTTP_STATUS, `Model server request failed: ${what}`, { cause }),
        retryable: true,
        timedOut,
      };
    }
  }

  return {
    async score(tensor, rows, signal) {
      for (let n = 0; ; n++) {
        const result = await timedAttempt(tensor, rows, signal);
        if (result instanceof Float32Array) return result;
        if (!result.retryable || n >= policy.retries) {
          if (n > 0) result.error.message += ` (after ${n + 1} attempts)`;
          throw result.error;
        }
        const delayMs = retryDelay(n + 1, policy, result.retryAfterMs);
        onRetry?.({ attempt: n + 1, delayMs, reason: result.error.message });
        await sleep(delayMs, undefined, signal ? { signal } : {});
      }
    },
    async close() {
      await pool.close();
    },
  };
}
