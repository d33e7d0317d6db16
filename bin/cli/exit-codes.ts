/**
 * Exit codes (DESIGN.md): 0 success, 2 usage error, 65 bad data (sysexits EX_DATAERR), 1 anything else, and
 * 130 when stopped by SIGINT/SIGTERM (the shell's 128 + SIGINT convention).
 */
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_DATA = 65;
export const EXIT_INTERRUPTED = 130;

export function exitCodeFor(err: unknown): number {
  if (!isBatchInferError(err)) return EXIT_FAILURE;
  switch (err.code) {
    case ErrorCodes.USAGE:
    case ErrorCodes.INVALID_OPTION:
      return EXIT_USAGE;
    case ErrorCodes.MISSING_COLUMN:
    case ErrorCodes.TOO_MANY_REJECTS:
    case ErrorCodes.CSV_PARSE:
    case ErrorCodes.INPUT_FORMAT:
    case ErrorCodes.HEADER_MISMATCH:
    case ErrorCodes.PARQUET:
    case ErrorCodes.QUERY:
      return EXIT_DATA;
    default:
      return EXIT_FAILURE;
  }
}
