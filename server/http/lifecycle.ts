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
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { formatTraceparent, serverSpan, traceFields, type Span } from '../../lib/core/trace-context.js';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';

/** What the lifecycle middleware puts on `ctx.state`. */
export interface RequestState {
  requestId: string;
  /** This request's span: in the caller's trace when it sent a valid `traceparent`. */
  trace: Span;
  deadline: number;
  /** Logs with `request_id`, `trace_id`, `span_id` and, for a continued trace, `parent_span_id`. */
  log: Logger;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

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

  middleware(logger: Logger, timeoutMs: number) {
    return async (ctx: Context, next: Next): Promise<void> => {
      const given = ctx.get('x-request-id');
      const requestId = REQUEST_ID.test(given) ? given : randomUUID();
      ctx.set('x-request-id', requestId);
      const trace = serverSpan(ctx.get('traceparent'));
      const { traceId, spanId, flags } = trace;
      ctx.set('traceresponse', formatTraceparent({ traceId, parentId: spanId, flags }));
      const state = ctx.state as RequestState;
      state.requestId = requestId;
      state.trace = trace;
      state.deadline = Date.now() + timeoutMs;
      state.log = logger.child({ request_id: requestId, ...traceFields(trace) });
      const health = ctx.path.startsWith('/v2/health') || ctx.path === '/metrics' || ctx.path === '/ping';
      if (this.#closing && !health) {
        ctx.set('Connection', 'close');
        throw new BatchInferError(ErrorCodes.OVERLOADED, 'Server is shutting down');
      }
      this.#inflight++;
      let timer: NodeJS.Timeout | undefined;
      const work = next();
      // The race settles the response at the deadline; the work's own late failure must not go unhandled.
      work.catch(() => undefined);
      try {
        await Promise.race([
          work,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              reject(new BatchInferError(ErrorCodes.TIMEOUT, `Request timed out after ${timeoutMs} ms`));
            }, timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        this.#inflight--;
        if (this.#inflight === 0) this.#drained?.();
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
