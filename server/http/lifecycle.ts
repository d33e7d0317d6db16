/**
 * Request lifecycle: a request id (`x-request-id` taken from the client or made, and echoed), a pino child
 * logger per request, in-flight tracking so shutdown can drain, refusal of new work once shutdown begins, and
 * the per-request deadline (`ctx.state.deadline`, epoch ms) that engines use to drop work nobody waits for.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';

/** What the lifecycle middleware puts on `ctx.state`. */
export interface RequestState {
  requestId: string;
  deadline: number;
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
      const state = ctx.state as RequestState;
      state.requestId = requestId;
      state.deadline = Date.now() + timeoutMs;
      state.log = logger.child({ request_id: requestId });
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
