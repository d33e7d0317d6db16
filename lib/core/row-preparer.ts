/**
 * What happens to each source record on its way to the model, without a stream around it: the header sets the
 * columns (one the model needs is missing: BI_ERR_MISSING_COLUMN), rows an earlier attempt of the run finished
 * are counted and passed over, and every other row either has its features written where the caller says or is
 * rejected with its line and reason (STYLE.md §8). The Preprocessor and the CSV batch reader
 * (lib/streams/csv-batch-reader.ts) both decide through it, so they decide alike.
 */
import { performance } from 'node:perf_hooks';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { Column } from '../io/table.js';
import type { RejectedRow, SourceRecord } from '../types.js';
import { cellText } from './cell-text.js';
import type { InputPlan, RowWriter } from './input-plan.js';
import type { Tensor } from './tensor.js';

export interface RowPreparerOptions {
  /** How the model's inputs are read from the columns (lib/core/input-plan.ts). */
  plan: InputPlan;
  onReject: (row: RejectedRow) => void;
  /**
   * Each row's raw feature values (the plan's `monitored` ones, NaN where missing or unparsable), for prepared
   * rows and rows rejected for a bad value. The array is reused for the next row: copy it to keep it.
   */
  onRaw: ((raw: Float64Array) => void) | undefined;
  /** Rows (after the header) to count and pass over. */
  skipRows: number;
}

export class RowPreparer {
  readonly #plan: InputPlan;
  readonly #onReject: (row: RejectedRow) => void;
  readonly #onRaw: ((raw: Float64Array) => void) | undefined;
  readonly #skipRows: number;
  readonly #raw: Float64Array;
  #columns: readonly string[] | undefined;
  #columnTypes: readonly Column[] | undefined;
  #write: RowWriter | undefined;
  /** Rows read, prepared and rejected so far. */
  readonly counts = { read: 0, prepared: 0, rejected: 0 };
  /** Milliseconds spent computing features. */
  busyMs = 0;

  constructor(options: RowPreparerOptions) {
    this.#plan = options.plan;
    this.#onReject = options.onReject;
    this.#onRaw = options.onRaw;
    this.#skipRows = options.skipRows;
    this.#raw = new Float64Array(options.plan.monitored.length);
  }

  /** How the model's inputs are read. */
  get plan(): InputPlan {
    return this.#plan;
  }

  /** The input's column names, once known. */
  get columns(): readonly string[] | undefined {
    return this.#columns;
  }

  /** The input's columns with their types: a typed source's (Parquet, PostgreSQL), else all `string`. */
  get columnTypes(): readonly Column[] | undefined {
    return this.#columnTypes;
  }

  /**
   * Takes the input's columns (and their types, from a typed source); throws BI_ERR_MISSING_COLUMN when one the
   * model needs is not among them.
   */
  setColumns(columns: readonly string[], types?: readonly Column[]): void {
    const missing = this.#plan.columns.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new BatchInferError(
        ErrorCodes.MISSING_COLUMN,
        `Input lacks column(s) the model needs: ${missing.join(', ')} (input has: ${columns.join(', ')})`,
        { context: { column: missing[0] as string } },
      );
    }
    this.#columns = columns;
    this.#columnTypes = types ?? columns.map((name) => ({ name, type: 'string' }));
    this.#write = this.#plan.bind(columns);
  }

  /**
   * The header (the first record while the columns are unknown) or a row. A row to score has its model inputs
   * written into row `at` of `tensors` and its 1-based row number returned; for the header, a row passed over
   * or a rejected row the result is undefined. Throws only for a header that lacks a needed column.
   */
  prepare(record: SourceRecord, tensors: readonly Tensor[], at: number): number | undefined {
    const columns = this.#columns;
    if (columns === undefined) {
      this.setColumns(record.values.map(cellText), record.columns);
      return undefined;
    }
    const row = ++this.counts.read;
    if (row <= this.#skipRows) return undefined;
    let reason = record.error;
    if (reason === undefined && record.values.length !== columns.length)
      reason = `expected ${columns.length} fields, got ${record.values.length}`;
    if (reason !== undefined) {
      this.#reject(record, row, reason);
      return undefined;
    }
    const started = performance.now();
    reason = (this.#write as RowWriter)(record.values, this.#raw, tensors, at);
    this.#onRaw?.(this.#raw);
    this.busyMs += performance.now() - started;
    if (reason !== undefined) {
      this.#reject(record, row, reason);
      return undefined;
    }
    this.counts.prepared++;
    return row;
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
}
