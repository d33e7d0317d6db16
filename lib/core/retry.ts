/**
 * Retry policy for model requests, as plain functions: which failures are worth another attempt, and how long
 * to wait before it. Transient failures (the network, a timeout, an overloaded or restarting server) are
 * retried with exponential backoff and full jitter, so many clients that failed together do not retry together
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"); a server's `Retry-After` wins over the backoff.
 * Data errors (400, 422) are never retried: the same body would fail the same way.
 */

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly retries: number;
  /** Backoff cap of the first retry; doubles on each further one. */
  readonly baseDelayMs: number;
  /** No backoff waits longer than this. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  retries: 3,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
});

/**
 * A server may ask for a long pause, but a batch job that sleeps for an hour on one header looks hung; past this
 * the retry waits only this long and the next refusal counts as another attempt.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/** 408 Request Timeout, 429 Too Many Requests and 5xx, except 501 Not Implemented, which no retry will fix. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501);
}

/** The server refused the request's content: the batch holds at least one row the model cannot take. */
export function isBadInputStatus(status: number): boolean {
  return status === 400 || status === 422;
}

/**
 * Error codes of transport failures worth retrying: the connection was refused, reset or timed out, or the
 * server closed it mid-answer. (undici's `UND_ERR_*` codes and Node's system error codes.)
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function isRetryableErrorCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/**
 * Milliseconds a `Retry-After` header asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), at least 0
 * and at most MAX_RETRY_AFTER_MS; undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    // Date.parse also reads bare numbers such as "-3" as years; an HTTP-date always names its weekday.
    const date = /^[A-Za-z]{3},/.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * Wait before retry number `attempt` (1-based): the server's `Retry-After` when it gave one, else "full jitter",
 * a uniform draw from [0, min(maxDelayMs, baseDelayMs · 2^(attempt−1))). `random` is injectable for tests.
 */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}
