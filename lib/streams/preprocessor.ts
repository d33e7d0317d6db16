/**
 * Preprocessor: source records → prepared rows, each with its model inputs as one-row tensors (read from the
 * columns as the model's input plan says, lib/core/input-plan.ts).
 * The first record is the header unless `columns` is given. A record that cannot be scored is not an error
 * of the run: it goes to `onReject` with its line and reason (STYLE.md §8). A header that lacks a column the
 * model needs is an error of the run (BI_ERR_MISSING_COLUMN).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { InputPlan } from '../core/input-plan.js';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import { RowPreparer } from '../core/row-preparer.js';
import { copyTensors, type Tensor } from '../core/tensor.js';
import type { Column } from '../io/table.js';
import type { FeaturizedRow, RejectedRow, SourceRecord } from '../types.js';

export interface PreprocessorOptions {
  /** How the model's inputs are read from the columns: `planInputs(contract)`. Required. */
  plan: InputPlan;
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
  /** Where the preparer writes a row's inputs (one row). */
  readonly #scratch: Tensor[];

  constructor(options: PreprocessorOptions) {
    refuseUnknownKeys('Preprocessor', options, [
      'plan',
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
      plan: options.plan,
      onReject: options.onReject ?? (() => undefined),
      // The preparer reuses its array; a caller of this public option may keep each one.
      onRaw: onRaw === undefined ? undefined : (raw) => onRaw(raw.slice()),
      skipRows: integerOption('skipRows', options.skipRows, 0, 0),
    });
    this.#scratch = options.plan.allocate(1);
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

  /** The input's columns with their types (a typed source's; else all `string`), once known. */
  get columnTypes(): readonly Column[] | undefined {
    return this.#rows.columnTypes;
  }

  override _transform(record: SourceRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    let row: number | undefined;
    try {
      row = this.#rows.prepare(record, this.#scratch, 0);
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (row === undefined) {
      callback();
      return;
    }
    // A row of its own only for a row that goes on (not for the header, a skipped or a rejected row).
    const inputs = copyTensors(this.#scratch);
    const prepared: FeaturizedRow =
      record.file === undefined
        ? { line: record.line, values: record.values, inputs, row }
        : { line: record.line, values: record.values, inputs, row, file: record.file };
    callback(null, prepared);
  }
}
