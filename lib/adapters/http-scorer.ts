/**
 * The HTTP transport under every HTTP codec: an undici Pool with keep-alive, one connection per allowed
 * in-flight request, a per-attempt timeout, and retries of transient failures (lib/core/retry.ts). A non-2xx
 * answer that is not retried, or still fails after the last retry, becomes BI_ERR_HTTP_STATUS carrying the
 * status and the server's `{"error"}` text; a 400/422 is left to the ModelScorer, which bisects the batch.
 * Every attempt is a span of the run's trace: it sends its own W3C `traceparent` (lib/core/trace-context.ts),
 * its events carry the ids, and a failure's message ends with the last attempt's, to find in the server's log.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../errors.js';
import { integerOption, refuseUnknownKeys, requiredOption, stringOption } from '../core/options.js';
import {
  DEFAULT_RETRY_POLICY,
  isBadInputStatus,
  isRetryableErrorCode,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from '../core/retry.js';
import { childSpan, formatTraceparent, newTraceId, traceIdOption, type Span } from '../core/trace-context.js';
import { rowsOf, type Tensor } from '../core/tensor.js';
import type { BatchScorer, HttpCodec } from './types.js';

export interface HttpScorerOptions {
  /** Server base URL; a path in it prefixes every request path. Required. */
  url: string;
  /** Encodes batches and decodes answers for one model API. Required. */
  codec: HttpCodec;
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
  /**
   * The trace every request belongs to (the pipeline run's): 32 lowercase hex digits. Each attempt is a new span
   * of it, sent as `traceparent: 00-<traceId>-<spanId>-01`.
   * @default a new random trace id per scorer
   * @example "4bf92f3577b34da6a3ce929d0e0e4736"
   */
  traceId?: string;
  /** Called before each retry, with why and how long it waits (for logs and tests). */
  onRetry?: (event: RetryEvent) => void;
  /** Called after each attempt (each HTTP request), with how it ended and how long it took (for metrics). */
  onAttempt?: (event: AttemptEvent) => void;
}

export interface AttemptEvent {
  /** `timeout`: no answer within `timeoutMs`; `error`: a non-2xx answer or a failed connection. */
  outcome: 'success' | 'error' | 'timeout';
  durationMs: number;
  /** The trace the attempt belongs to; the server logs it as `trace_id`. */
  traceId: string;
  /** The attempt's span, sent as the `traceparent`'s parent-id; the server logs it as `parent_span_id`. */
  spanId: string;
}

/** A retry about to wait. */
export interface RetryEvent {
  attempt: number;
  delayMs: number;
  reason: string;
  /** The trace of the attempt that failed. */
  traceId: string;
  /** The span of the attempt that failed (a log line with it finds the server's line of that request). */
  spanId: string;
}

const KNOWN = [
  'url',
  'codec',
  'connections',
  'timeoutMs',
  'retries',
  'retryBaseDelayMs',
  'traceId',
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
  /** The server refused the batch's content: the ModelScorer bisects it and rejects rows with this message. */
  badInput?: boolean;
}

/** How a failed attempt is named in the error: the ids to look up in the server's log. */
const traceNote = (span: Span): string => ` [trace_id=${span.traceId} span_id=${span.spanId}]`;

export function createHttpScorer(options: HttpScorerOptions): BatchScorer {
  refuseUnknownKeys('createHttpScorer', options, KNOWN);
  const origin = new URL(requiredOption('url', stringOption('url', options.url)));
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
  const traceId = traceIdOption('traceId', options.traceId) ?? newTraceId();
  const { onRetry, onAttempt } = options;
  const prefix = origin.pathname.replace(/\/$/, '');
  const pool = new Pool(origin.origin, {
    connections: integerOption('connections', options.connections, 4, 1, 1024),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  async function timedAttempt(
    span: Span,
    inputs: Tensor[],
    signal: AbortSignal | undefined,
  ): Promise<Tensor[] | Failure> {
    const started = performance.now();
    const settle = (outcome: AttemptEvent['outcome']): void =>
      onAttempt?.({
        outcome,
        durationMs: performance.now() - started,
        traceId: span.traceId,
        spanId: span.spanId,
      });
    try {
      const result = await attempt(span, inputs, signal);
      settle(Array.isArray(result) ? 'success' : result.timedOut === true ? 'timeout' : 'error');
      return result;
    } catch (err) {
      settle('error');
      throw err;
    }
  }

  async function attempt(
    span: Span,
    inputs: Tensor[],
    signal: AbortSignal | undefined,
  ): Promise<Tensor[] | Failure> {
    const request = codec.encode(inputs);
    const traceparent = formatTraceparent({
      traceId: span.traceId,
      parentId: span.spanId,
      flags: span.flags,
    });
    // undici's own timeouts bound each phase; this one bounds the whole attempt, as `timeout` promises.
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await pool.request({
        method: 'POST',
        path: prefix + request.path,
        headers: { ...request.headers, traceparent },
        body: request.body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const status = response.statusCode;
      if (status >= 200 && status < 300)
        return codec.decode({ status, headers: response.headers, body }, rowsOf(inputs));
      const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'), Date.now());
      return {
        error: new BatchInferError(
          ErrorCodes.HTTP_STATUS,
          `Model server answered ${status}: ${serverMessage(body)}`,
          { context: { status } },
        ),
        retryable: isRetryableStatus(status),
        badInput: isBadInputStatus(status),
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
    async score(inputs, signal) {
      for (let n = 0; ; n++) {
        const span = childSpan(traceId);
        const result = await timedAttempt(span, inputs, signal).catch((err: unknown) => {
          // An answer the codec could not read: the server's log lines of this span say what it sent. (An
          // abort's reason is the caller's own error, not this attempt's.)
          if (isBatchInferError(err) && signal?.aborted !== true) err.message += traceNote(span);
          throw err;
        });
        if (Array.isArray(result)) return result;
        if (!result.retryable || n >= policy.retries) {
          if (n > 0) result.error.message += ` (after ${n + 1} attempts)`;
          // A refusal becomes each bad row's reject reason: the server's words only, alike for alike rows.
          if (result.badInput !== true) result.error.message += traceNote(span);
          throw result.error;
        }
        const delayMs = retryDelay(n + 1, policy, result.retryAfterMs);
        onRetry?.({
          attempt: n + 1,
          delayMs,
          reason: result.error.message,
          traceId: span.traceId,
          spanId: span.spanId,
        });
        await sleep(delayMs, undefined, signal ? { signal } : {});
      }
    },
    async close() {
      await pool.close();
    },
  };
}
