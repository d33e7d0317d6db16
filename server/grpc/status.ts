/**
 * gRPC status codes for the failures the REST routes answer with an HTTP status, as the gRPC project's own table
 * pairs them (grpc/grpc doc/http-grpc-status-mapping.md, read the other way round) and as Triton answers: a
 * malformed request is INVALID_ARGUMENT, an unknown model NOT_FOUND, a full queue or a server shutting down
 * UNAVAILABLE, a passed deadline DEADLINE_EXCEEDED, a missing or wrong token UNAUTHENTICATED, a disabled
 * repository API PERMISSION_DENIED. As over HTTP, the message of a failure the server chose explains it, and any
 * other says only "Internal server error".
 */
import { status } from '@grpc/grpc-js';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { HttpError } from '../http/http-error.js';

/** The gRPC status of an HTTP status the REST routes would answer. */
export function grpcStatusOf(httpStatus: number): status {
  switch (httpStatus) {
    case 400:
      return status.INVALID_ARGUMENT;
    case 401:
      return status.UNAUTHENTICATED;
    case 403:
      return status.PERMISSION_DENIED;
    case 404:
      return status.NOT_FOUND;
    case 405:
    case 501:
      return status.UNIMPLEMENTED;
    case 408:
    case 504:
      return status.DEADLINE_EXCEEDED;
    case 413:
    case 429:
      return status.RESOURCE_EXHAUSTED;
    case 503:
      return status.UNAVAILABLE;
    default:
      return status.INTERNAL;
  }
}

/** A failure as the gRPC status and message to answer with; `deliberate` is false for an unexpected one. */
export function grpcFailure(err: unknown): { code: status; details: string; deliberate: boolean } {
  let httpStatus = 500;
  if (err instanceof HttpError) httpStatus = err.status;
  else if (isBatchInferError(err)) {
    if (err.code === ErrorCodes.MODEL_NOT_FOUND) httpStatus = 404;
    else if (err.code === ErrorCodes.BAD_REQUEST || err.code === ErrorCodes.BAD_RECORD) httpStatus = 400;
    else if (err.code === ErrorCodes.TIMEOUT) httpStatus = 504;
    else if (err.code === ErrorCodes.OVERLOADED) httpStatus = 503;
  }
  const deliberate = httpStatus !== 500;
  return {
    code: grpcStatusOf(httpStatus),
    details: deliberate ? (err as Error).message : 'Internal server error',
    deliberate,
  };
}
