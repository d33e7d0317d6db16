/**
 * Turns every failure into the Open Inference Protocol error body `{"error": "…"}`. 4xx bodies explain the
 * problem, and so do the 503/504 the server raises on purpose (overloaded, shutting down, deadline passed);
 * any other 5xx body says only "Internal server error" — the detail goes to the log, never to the client.
 * Log lines go through the request's child logger (lifecycle.ts), so they carry its request and trace ids.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { isBatchInferError, ErrorCodes } from '../../lib/errors.js';
import { HttpError } from './http-error.js';

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (isBatchInferError(err)) {
    if (err.code === ErrorCodes.MODEL_NOT_FOUND) return 404;
    if (err.code === ErrorCodes.BAD_REQUEST || err.code === ErrorCodes.BAD_RECORD) return 400;
    if (err.code === ErrorCodes.TIMEOUT) return 504;
    if (err.code === ErrorCodes.OVERLOADED) return 503;
  }
  return 500;
}

/**
 * How a failure is answered: its status, extra headers, the message the client reads, and whether it was
 * unexpected (a 5xx nobody raised on purpose: the client reads only "Internal server error", the log gets the
 * error) or a deliberate refusal (the 503s and 504s the server chose: logged at warn).
 */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  message: string;
  unexpected: boolean;
  refused: boolean;
}

export function errorAnswer(err: unknown): ErrorAnswer {
  const status = statusOf(err);
  const headers = err instanceof HttpError ? { ...err.headers } : {};
  const deliberate = err instanceof HttpError || (isBatchInferError(err) && status !== 500);
  const unexpected = status >= 500 && !deliberate;
  return {
    status,
    headers,
    message: unexpected ? 'Internal server error' : (err as Error).message,
    unexpected,
    refused: status >= 500 && !unexpected,
  };
}

export function errorMiddleware(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    let refused = false;
    try {
      await next();
    } catch (err) {
      const answer = errorAnswer(err);
      ctx.status = answer.status;
      ctx.set(answer.headers);
      if (answer.status === 503) ctx.set('Retry-After', ctx.response.get('Retry-After') || '1');
      if (answer.unexpected)
        requestLog(ctx, logger).error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.body = { error: answer.message };
      refused = answer.refused;
    }
    // An access line per request, with the final status: at debug level, except the 503s and 504s the server
    // chose (overloaded, shutting down, deadline passed). Clients retry those, and at warn the retried
    // attempt's trace and span ids can be found in the log at the default level.
    const line = { method: ctx.method, path: ctx.path, status: ctx.status };
    if (refused) requestLog(ctx, logger).warn(line, 'request');
    else requestLog(ctx, logger).debug(line, 'request');
  };
}

/**
 * The request's own child logger (lifecycle.ts) carries its request id, so a log line and the client's
 * `x-request-id` can be matched; requests refused before the lifecycle ran use the server's logger.
 */
function requestLog(ctx: Context, logger: Logger): Logger {
  return (ctx.state as { log?: Logger }).log ?? logger;
}
