/**
 * A failed write of an output file as a BatchInferError (BI_ERR_OUTPUT_WRITE) that names the file the user
 * knows and says why in words, with the system code: `Cannot write "out.csv": no space left on the device
 * (ENOSPC)`. Errors that already carry a code pass through.
 */
import { BatchInferError, ErrorCodes, isBatchInferError, show } from '../errors.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is too large',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent of it is not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'its directory does not exist',
  EIO: 'input/output error',
};

export function outputError(path: string, cause: unknown): BatchInferError {
  if (isBatchInferError(cause)) return cause;
  const code = (cause as { code?: unknown }).code;
  const reason =
    typeof code === 'string'
      ? `${REASONS[code] ?? (cause as Error).message} (${code})`
      : cause instanceof Error
        ? cause.message
        : String(cause);
  return new BatchInferError(ErrorCodes.OUTPUT_WRITE, `Cannot write ${show(path)}: ${reason}`, {
    cause,
    context: { file: path },
  });
}
