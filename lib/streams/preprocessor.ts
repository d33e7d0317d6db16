/**
 * Preprocessor: source records → prepared rows (features computed from the model's feature spec).
 * The first record is the header unless `columns` is given. A record that cannot be scored is not an error
 * of the run: it goes to `onReject` with its line and reason (STYLE.md §8). A header that lacks a column the
 * model needs is an error of the run (BI_ERR_MISSING_COLUMN).
 */
import { performance } from 'node:perf_hooks';
import { Transform, type TransformCallback } from 'node:stream';
import { BatchInferError, ErrorCodes } from '../errors.js';
import {
  featuresFromValues,
  requiredColumns,
  type FeatureSpec,
  type ValuesFeaturizer,
} from '../core/features.js';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import type { PreparedRow, RejectedRow, SourceRecord } from '../types.js';

export interface PreprocessorOptions {
  /** The model's feature spec (`model.json` → `features`). Required. */
  features: readonly FeatureSpec[];
  /**
   * Input column names. When omitted, the first record is taken as the header.
   * @default undefined
   */
  columns?: readonly string[];
  /**
   * Called for each record that cannot be scored.
   * @default rejects are only counted
   */
  onReject?: (row: RejectedRow) => void;
  /**
   * Called with each row's raw (pre-standardization) feature values, in feature order, for data-quality and
   * drift profiles: prepared rows, and rows rejected for a bad value, with NaN for each value that is missing
   * or unparsable. Rows rejected before their values are read (wrong field count) are not passed.
   * @default none
   */
  onRaw?: (raw: Float64Array) => void;
  /**
   * Rows (after the header) an earlier run already finished: they are read and counted, not emitted. Resuming
   * a run uses it.
   * @default 0
   */
  skipRows?: number;
  /** Aborting the signal destroys the stream with an AbortError. */
  signal?: AbortSignal;
}

export class Preprocessor extends Transform {
  readonly #features: readonly FeatureSpec[];
  readonly #onReject: (row: RejectedRow) => void;
  readonly #onRaw: ((raw: Float64Array) => void) | undefined;
  readonly #skipRows: number;
  /** Where raw values go when no one reads them. */
  readonly #scratch: Float64Array;
  #columns: readonly string[] | undefined;
  #featurize: ValuesFeaturizer | undefined;
  /** Rows read, prepared and rejected so far. */
  readonly counts = { read: 0, prepared: 0, rejected: 0 };
  #busyMs = 0;

  constructor(options: PreprocessorOptions) {
    refuseUnknownKeys('Preprocessor', options, [
      'features',
      'columns',
      'onReject',
      'onRaw',
      'skipRows',
      'signal',
    ]);
    const signal = signalOption('signal', options.signal);
    super({
      objectMode: true,
      readableHighWaterMark: 1024,
      writableHighWaterMark: 1024,
      ...(signal ? { signal } : {}),
    });
    this.#features = options.features;
    this.#onReject = options.onReject ?? (() => undefined);
    this.#onRaw = options.onRaw;
    this.#skipRows = integerOption('skipRows', options.skipRows, 0, 0);
    this.#scratch = new Float64Array(options.features.length);
    if (options.columns !== undefined) this.#setColumns(options.columns);
  }

  /** Milliseconds spent turning records into features (the run's `preprocess` stage time). */
  get busyMs(): number {
    return this.#busyMs;
  }

  /** The input's column names, once known. */
  get columns(): readonly string[] | undefined {
    return this.#columns;
  }

  #setColumns(columns: readonly string[]): void {
    const missing = requiredColumns(this.#features).filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new BatchInferError(
        ErrorCodes.MISSING_COLUMN,
        `Input lacks column(s) the model needs: ${missing.join(', ')} (input has: ${columns.join(', ')})`,
        { context: { column: missing[0] as string } },
      );
    }
    this.#columns = columns;
    this.#featurize = featuresFromValues(this.#features, columns);
  }

  #reject(record: SourceRecord, row: number, error: string): void {
    this.counts.rejected++;
    this.#onReject({
      line: record.line,
      values: record.values,
      error,
      row,
      ...(record.file === undefined ? {} : { file: record.file }),
    });
  }

  override _transform(record: SourceRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#columns === undefined) {
      try {
        this.#setColumns(record.values);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback();
      return;
    }
    const row = ++this.counts.read;
    if (row <= this.#skipRows) {
      callback();
      return;
    }
    if (record.error !== undefined) {
      this.#reject(record, row, record.error);
      callback();
      return;
    }
    if (record.values.length !== this.#columns.length) {
      this.#reject(record, row, `expected ${this.#columns.length} fields, got ${record.values.length}`);
      callback();
      return;
    }
    const started = performance.now();
    const width = this.#features.length;
    // The raw values are the drift and quality profiles' (onRaw): not computed into an array of its own without one.
    const raw = this.#onRaw === undefined ? this.#scratch : new Float64Array(width);
    const features = new Float32Array(width);
    const reason = (this.#featurize as ValuesFeaturizer)(record.values, raw, features);
    this.#onRaw?.(raw);
    this.#busyMs += performance.now() - started;
    if (reason !== undefined) {
      this.#reject(record, row, reason);
      callback();
      return;
    }
    this.counts.prepared++;
    const prepared: PreparedRow =
      record.file === undefined
        ? { line: record.line, values: record.values, features, row }
        : { line: record.line, values: record.values, features, row, file: record.file };
    callback(null, prepared);
  }
}
