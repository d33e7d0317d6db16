/**
 * Every error batch-infer raises carries a stable `code` (listed in docs/errors.md; a test keeps the two in
 * step). Match on `code`, never on the message: messages may be reworded, codes may not.
 */
export const ErrorCodes = {
  /** An option has the wrong type or value, or is unknown. */
  INVALID_OPTION: 'BI_ERR_INVALID_OPTION',
  /** A command-line flag or argument is wrong (CLI exit code 2). */
  USAGE: 'BI_ERR_USAGE',
  /** `model.json` is missing, unreadable or does not describe a usable model. */
  MODEL_CONTRACT: 'BI_ERR_MODEL_CONTRACT',
  /** The requested model or version is not in the repository or on the server. */
  MODEL_NOT_FOUND: 'BI_ERR_MODEL_NOT_FOUND',
  /** A record cannot be turned into features (missing, empty or unparsable value). */
  BAD_RECORD: 'BI_ERR_BAD_RECORD',
  /** The input lacks a column the model's feature spec requires (CLI exit code 65). */
  MISSING_COLUMN: 'BI_ERR_MISSING_COLUMN',
  /** More rows were rejected than `maxRejectRatio` allows (CLI exit code 65). */
  TOO_MANY_REJECTS: 'BI_ERR_TOO_MANY_REJECTS',
  /** The input's header cannot be parsed as CSV (a quote error in a later row is a rejected row). */
  CSV_PARSE: 'BI_ERR_CSV_PARSE',
  /** A JSON Lines input does not start with a JSON object, so it has no columns (CLI exit code 65). */
  INPUT_FORMAT: 'BI_ERR_INPUT_FORMAT',
  /** Several input files do not share one header (CLI exit code 65). */
  HEADER_MISMATCH: 'BI_ERR_HEADER_MISMATCH',
  /** No input file matches a pattern, or an input file cannot be read. */
  INPUT_NOT_FOUND: 'BI_ERR_INPUT_NOT_FOUND',
  /**
   * An output file (the output, rejects, summary, metrics or resume journal) cannot be created, written or
   * renamed into place: no space left, no permission, a read-only file system, a parent that is not a directory.
   */
  OUTPUT_WRITE: 'BI_ERR_OUTPUT_WRITE',
  /** `resume` found a journal written by a run with other settings, or a journal without its partial output. */
  JOURNAL_MISMATCH: 'BI_ERR_JOURNAL_MISMATCH',
  /** A Parquet input is corrupt, truncated or uses an encoding or type batch-infer cannot read (CLI exit 65). */
  PARQUET: 'BI_ERR_PARQUET',
  /** The database refused the input query, or a table named by `--input-table` does not exist (CLI exit 65). */
  QUERY: 'BI_ERR_QUERY',
  /**
   * A database, object store or URL cannot be reached, or refuses the credentials given; or an object or URL
   * answers with an error status.
   */
  ACCESS: 'BI_ERR_ACCESS',
  /** The output table exists and `--if-exists` is `fail` (the default). */
  TABLE_EXISTS: 'BI_ERR_TABLE_EXISTS',
  /** An existing output table's columns do not fit the run's output (`--if-exists append`). */
  TABLE_COLUMNS: 'BI_ERR_TABLE_COLUMNS',
  /** An inference request is malformed (server answers 400). */
  BAD_REQUEST: 'BI_ERR_BAD_REQUEST',
  /** The model server answered with an error status. */
  HTTP_STATUS: 'BI_ERR_HTTP_STATUS',
  /** The model server's response does not have the expected shape. */
  BAD_RESPONSE: 'BI_ERR_BAD_RESPONSE',
  /** Running the model failed inside onnxruntime. */
  INFERENCE: 'BI_ERR_INFERENCE',
  /** A request's deadline passed before it was answered (server answers 504). */
  TIMEOUT: 'BI_ERR_TIMEOUT',
  /** The server's queue for a model is full, or it is shutting down (server answers 503 with Retry-After). */
  OVERLOADED: 'BI_ERR_OVERLOADED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Context attached to an error: where in the data or which model it concerns. */
export interface ErrorContext {
  line?: number;
  column?: string;
  model?: string;
  option?: string;
  status?: number;
  file?: string;
}

export class BatchInferError extends Error {
  override readonly name = 'BatchInferError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** True when `err` is a BatchInferError, optionally with the given code. */
export function isBatchInferError(err: unknown, code?: ErrorCode): err is BatchInferError {
  return err instanceof BatchInferError && (code === undefined || err.code === code);
}

/** Renders a value for an error message: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
  const text = showWhole(value);
  // A message quotes a value, it does not carry it: a 1 MB bad value must not make a 1 MB error.
  return text.length > SHOW_LIMIT ? `${text.slice(0, SHOW_LIMIT)}…` : text;
}

const SHOW_LIMIT = 200;

function showWhole(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
