/**
 * Request lifecycle: a request id (`x-request-id` taken from the client or made, and echoed), the request's
 * span of a W3C trace, a pino child logger per request carrying both, in-flight tracking so shutdown can drain,
 * refusal of new work once shutdown begins, and the per-request deadline (`ctx.state.deadline`, epoch ms) that
 * engines use to drop work nobody waits for.
 *
 * Tracing (https://www.w3.org/TR/trace-context/): a valid `traceparent` is continued (same trace id, the
 * caller's span as `parent_span_id`, a new `span_id` for this request); an invalid or missing one starts a new
 * trace, as the spec asks. `traceparent` is a request header and is never echoed; the answer carries the
 * request's own span in `traceresponse` (same format: version, trace id, this span, flags), the header of the
 * W3C Trace Context Level 2 draft, so a client that sent no `traceparent` still learns the trace id to quote.
 *
 * Per-request cost (issue #7): ids come from a counter rather than a random draw each, and the child logger is
 * made only when a line is actually written for the request.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Bindings, Logger } from 'pino';
import { formatTraceparent, serverSpan, traceFields, type Span } from '../../lib/core/trace-context.js';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';

/** What the lifecycle middleware puts on `ctx.state`. */
export interface RequestState {
  requestId: string;
  /** This request's span: in the caller's trace when it sent a valid `traceparent`. */
  trace: Span;
  deadline: number;
  /**
   * Logs with `request_id`, `trace_id`, `span_id` and, for a continued trace, `parent_span_id`: a child of the
   * server's logger, made when the request first writes a line (lazyChildLogger).
   */
  log: Logger;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** How many ids one prefix serves: the counter fills the last 12 hex digits. */
const IDS_PER_PREFIX = 2 ** 48;

/**
 * Random bits in a UUID's layout (RFC 9562 §5.8, version 8, "custom"): 8-4-4-4- hex digits, of which the
 * version digit and the variant bits are fixed, so a made id still looks like the `randomUUID()` ids it
 * replaces to anyone who checks the format.
 */
function idPrefix(): string {
  const bytes = randomBytes(10);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-`;
}

let prefix = idPrefix();
let made = 0;

/**
 * A new request id: this process's random prefix and a counter, as 36 characters in a UUID's layout. Unique in
 * the process, and across processes as far as 74 random bits go; opaque to clients all the same. A random UUID
 * per request cost 3–4 % of the main thread under load (benchmarks/README.md).
 */
export function newRequestId(): string {
  if (made === IDS_PER_PREFIX) {
    prefix = idPrefix();
    made = 0;
  }
  return prefix + (made++).toString(16).padStart(12, '0');
}

/**
 * The request's logger, made on first use. pino's `child()` builds a logging function per level, and most
 * requests never log: their access line is at debug level (error-middleware.ts), below the default. So a
 * disabled level's method is the parent's no-op, read without making the child; any other use makes the
 * child (with the same bindings an eager one would have had) and is served by it.
 */
export function lazyChildLogger(logger: Logger, bindings: () => Bindings): Logger {
  let child: Logger | undefined;
  const materialize = (): Logger => (child ??= logger.child(bindings()));
  return new Proxy(logger, {
    get(target, key) {
      if (
        child === undefined &&
        typeof key === 'string' &&
        typeof target.levels.values[key] === 'number' &&
        !target.isLevelEnabled(key)
      )
        return Reflect.get(target, key) as unknown;
      const real = materialize();
      const value: unknown = Reflect.get(real, key, real);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(real) : value;
    },
    set: (_, key, value) => Reflect.set(materialize(), key, value),
    has: (_, key) => Reflect.has(materialize(), key),
  });
}

/** The request id to answer with: the client's `x-request-id` when it is a sane one, else a new id. */
export function requestIdOf(given: string | undefined): string {
  return given !== undefined && REQUEST_ID.test(given) ? given : newRequestId();
}

/** The `traceresponse` header of a request's span. */
export function traceresponse({ traceId, spanId, flags }: Span): string {
  return formatTraceparent({ traceId, parentId: spanId, flags });
}

/** The error a request gets when it is still not answered after the request timeout. */
export function timedOut(timeoutMs: number): BatchInferError {
  return new BatchInferError(ErrorCodes.TIMEOUT, `Request timed out after ${timeoutMs} ms`);
}

export class Lifecycle {
  #inflight = 0;
  #closing = false;
  #drained: (() => void) | undefined;

  get closing(): boolean {
    return this.#closing;
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** A request begins: counted in flight until `leave()`, so shutdown waits for it. */
  enter(): void {
    this.#inflight++;
  }

  leave(): void {
    this.#inflight--;
    if (this.#inflight === 0) this.#drained?.();
  }

  middleware(logger: Logger, timeoutMs: number) {
    return async (ctx: Context, next: Next): Promise<void> => {
      const requestId = requestIdOf(ctx.get('x-request-id'));
      ctx.set('x-request-id', requestId);
      const trace = serverSpan(ctx.get('traceparent'));
      ctx.set('traceresponse', traceresponse(trace));
      const state = ctx.state as RequestState;
      state.requestId = requestId;
      state.trace = trace;
      state.deadline = Date.now() + timeoutMs;
      state.log = lazyChildLogger(logger, () => ({ request_id: requestId, ...traceFields(trace) }));
      const health = ctx.path.startsWith('/v2/health') || ctx.path === '/metrics' || ctx.path === '/ping';
      if (this.#closing && !health) {
        ctx.set('Connection', 'close');
        throw new BatchInferError(ErrorCodes.OVERLOADED, 'Server is shutting down');
      }
      this.enter();
      let timer: NodeJS.Timeout | undefined;
      const work = next();
      // The race settles the response at the deadline; the work's own late failure must not go unhandled.
      work.catch(() => undefined);
      try {
        await Promise.race([
          work,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(timedOut(timeoutMs)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        this.leave();
      }
    };
  }

  /** Stops taking new work, then resolves when in-flight requests are done or `graceMs` has passed. */
  async drain(graceMs: number): Promise<void> {
    this.#closing = true;
    if (this.#inflight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.#drained = resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }
}
