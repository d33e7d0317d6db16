/**
 * Preprocessor: source records → prepared rows (features computed from the model's feature spec).
 * The first record is the header unless `columns` is given. A record that cannot be scored is not an error
 * of the run: it goes to `onReject` with its line and reason (STYLE.md §8). A header that lacks a column the
 * model needs is an error of the run (BI_ERR_MISSING_COLUMN).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { FeatureSpec } from '../core/features.js';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import { RowPreparer } from '../core/row-preparer.js';
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
  readonly #rows: RowPreparer;
  /** Where the preparer writes a row's features. */
  readonly #features: Float32Array;

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
    const onRaw = options.onRaw;
    this.#rows = new RowPreparer({
      features: options.features,
      onReject: options.onReject ?? (() => undefined),
      // The preparer reuses its array; a caller of this public option may keep each one.
      onRaw: onRaw === undefined ? undefined : (raw) => onRaw(raw.slice()),
      skipRows: integerOption('skipRows', options.skipRows, 0, 0),
    });
    this.#features = new Float32Array(this.#rows.width);
    if (options.columns !== undefined) this.#rows.setColumns(options.columns);
  }

  /** Rows read, prepared and rejected so far. */
  get counts(): Readonly<{ read: number; prepared: number; rejected: number }> {
    return this.#rows.counts;
  }

  /** Milliseconds spent turning records into features (the run's `preprocess` stage time). */
  get busyMs(): number {
    return this.#rows.busyMs;
  }

  /** The input's column names, once known. */
  get columns(): readonly string[] | undefined {
    return this.#rows.columns;
  }

  override _transform(record: SourceRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    let row: number | undefined;
    try {
      row = this.#rows.prepare(record, this.#features, 0);
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (row === undefined) {
      callback();
      return;
    }
    // A row of its own only for a row that goes on (not for the header, a skipped or a rejected row).
    const features = this.#features.slice();
    const prepared: PreparedRow =
      record.file === undefined
        ? { line: record.line, values: record.values, features, row }
        : { line: record.line, values: record.values, features, row, file: record.file };
    callback(null, prepared);
  }
}
