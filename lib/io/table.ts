/**
 * What a run reads from and writes to, beyond bytes: a source of records (CSV and JSON Lines files, stdin, a
 * Parquet file, a PostgreSQL query, an object in S3 or behind an https URL) and a sink of output rows (a CSV
 * file or stdout, a Parquet file, a PostgreSQL table, an S3 object). docs/adapters.md, "Writing a source or a
 * sink", shows one of each.
 *
 * Text sources (CSV, JSON Lines) give every cell as a string; typed sources (Parquet, PostgreSQL) give numbers,
 * 64-bit integers, booleans and nulls as they are, so an INT64 column reaches an INT64 model input without a
 * round trip through text (lib/core/cells.ts takes either).
 */
import type { Readable, Writable } from 'node:stream';

/**
 * One value of a record. Strings from text sources; from typed ones also `number` (floats and 32-bit
 * integers), `bigint` (64-bit integers), `boolean`, and `null` for a missing value (SQL NULL, a Parquet null).
 */
export type Cell = string | number | bigint | boolean | null;

/**
 * A column's type as sinks write it. Text sources' columns are all `string`; a typed source maps its own types
 * onto these (a date, a decimal or a timestamp is `string`, in its ISO or exact decimal text).
 */
export type ColumnType = 'string' | 'boolean' | 'int32' | 'int64' | 'float32' | 'float64';

export interface Column {
  name: string;
  type: ColumnType;
  /**
   * True when no cell of the column is null (a model's outputs; a Parquet input's REQUIRED column). The
   * Parquet sink writes it REQUIRED, which spares readers and writers its definition levels, and fails on a
   * null cell in it as on any cell that does not fit.
   */
  required?: boolean;
}

/** What a source tells of its size before it is read, for progress and for splitting it into shards. */
export interface SourceSize {
  /** Bytes to read (files, objects with a length). */
  bytes?: number;
  /** Rows to read (a Parquet file's metadata). */
  rows?: number;
}

/**
 * A source of records. `open()` streams {@link SourceRecord}s in object mode: first the header (the column
 * names as `values`, and `columns` with their types when the source knows them), then one record per row with
 * its position (`line`: the line of a text file, else the 1-based row). A row the source can read but not as
 * a record carries `error`, and the run rejects it rather than failing. Errors of the source itself (a corrupt
 * file, a query error, refused credentials) fail the stream with a BatchInferError whose code is documented in
 * docs/errors.md.
 */
export interface RecordSource {
  /** How logs, summaries and metrics name it: a path, or a URL with any password removed. */
  readonly name: string;
  /**
   * Whether opening it again gives the same rows in the same order, so that `--resume` can pass over the rows
   * an earlier attempt finished (files and objects: yes; a query without ORDER BY: no).
   */
  readonly repeatable: boolean;
  /** Its size, when it can be known before reading. */
  size(): Promise<SourceSize>;
  /** The records: header first. Aborting `signal` destroys the stream and releases what it holds. */
  open(options?: { signal?: AbortSignal }): Readable;
}

/** A record of a source: the header (column names) or a row. */
export interface SourceRecord {
  /** The line of a text file, or the 1-based row of a typed source (0 for its header). */
  line: number;
  values: Cell[];
  /** The header's column types, when the source knows them (typed sources); text sources' are all `string`. */
  columns?: readonly Column[];
  /** The input file, when a run reads several. */
  file?: string;
  /** Set by a source that could read the line but not as a record; the Preprocessor rejects it with this. */
  error?: string;
}

/** A record of a text source (CSV, JSON Lines): every value a string. */
export interface TextRecord extends SourceRecord {
  values: string[];
}

/**
 * A batch of output rows for a typed sink: the output's columns (the kept input columns with their source
 * types, then the model's output columns) and the rows' cells in that order. Every batch of a run carries the
 * same `columns` array.
 */
export interface RowBatch {
  columns: readonly Column[];
  rows: readonly (readonly Cell[])[];
}

/**
 * The same as a {@link RowBatch}, column by column: `cells[c]` holds column `c`'s `length` cells, as an array
 * of cells or, for a number column, a typed array of its numbers (none null). A run hands these to a sink
 * that says it takes them ({@link RecordSink.columnar}): a model's probabilities go as the Float32Arrays they
 * are, with no array of cells per row in between.
 */
export interface ColumnBatch {
  columns: readonly Column[];
  length: number;
  cells: readonly (readonly Cell[] | Float32Array | Float64Array | Int32Array)[];
}

/** True for a {@link ColumnBatch} (a {@link RowBatch} has `rows` instead). */
export function isColumnBatch(batch: RowBatch | ColumnBatch): batch is ColumnBatch {
  return 'cells' in batch;
}

/**
 * Where output rows go. `stream` takes {@link RowBatch}es (a typed sink: Parquet, PostgreSQL), and
 * {@link ColumnBatch}es too when it is `columnar`, or bytes (a CSV sink: `kind: 'bytes'`). Nothing is visible
 * to others until `commit()` (a file renamed into place, a transaction committed, a multipart upload
 * completed); `discard()` after a failure or an abort leaves the target as it was. Either is called once,
 * after the stream finished or failed.
 */
export interface RecordSink {
  readonly kind: 'rows' | 'bytes';
  /** A `rows` sink that takes {@link ColumnBatch}es as well as RowBatches; a run then gives it those. */
  readonly columnar?: boolean;
  /** How logs, summaries and metrics name it: a path, or a URL with any password removed. */
  readonly name: string;
  readonly stream: Writable;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** True for a {@link RecordSource} object (not a path or a byte stream). */
export function isRecordSource(value: unknown): value is RecordSource {
  const v = value as Partial<RecordSource> | null;
  return typeof v === 'object' && v !== null && typeof v.open === 'function' && typeof v.size === 'function';
}

/** True for a {@link RecordSink} object (not a path or a byte stream). */
export function isRecordSink(value: unknown): value is RecordSink {
  const v = value as Partial<RecordSink> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    (v.kind === 'rows' || v.kind === 'bytes') &&
    typeof v.commit === 'function' &&
    typeof v.discard === 'function'
  );
}
