/**
 * RowsPostprocessor: scored batches → {@link RowBatch}es for a typed sink (a PostgreSQL table, a sink of your
 * own), or {@link ColumnBatch}es for one that takes them (Parquet), with the columns and cells of
 * lib/core/output-rows.ts. A run that scored no row still ends with one empty batch that carries the columns,
 * once they are known, so that the sink can write its schema (an empty Parquet file, a table with no rows).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { OutputRows } from '../core/output-rows.js';
import type { OutputPlan } from '../core/output-plan.js';
import type { Column, ColumnBatch, RowBatch } from '../io/table.js';
import type { ScoredBatch } from '../types.js';

export interface RowsPostprocessorOptions {
  plan: OutputPlan;
  /** The input's columns with their types, once known (the row preparer's `columnTypes`). */
  inputColumns: () => readonly Column[] | undefined;
  /** Input columns to pass through, in this order. @default every input column */
  keepColumns?: readonly string[] | undefined;
  /** ColumnBatches instead of RowBatches (the sink is `columnar`). @default false */
  columnar?: boolean | undefined;
}

export class RowsPostprocessor extends Transform {
  readonly #rows: OutputRows;
  readonly #inputColumns: () => readonly Column[] | undefined;
  readonly #columnar: boolean;
  #pushed = false;

  constructor(options: RowsPostprocessorOptions) {
    super({ objectMode: true, readableHighWaterMark: 4, writableHighWaterMark: 1 });
    this.#rows = new OutputRows(options.plan, options.keepColumns);
    this.#inputColumns = options.inputColumns;
    this.#columnar = options.columnar === true;
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#rows.columns(this.#inputColumns() ?? []);
      this.#pushed = true;
      callback(null, this.#columnar ? this.#rows.columnBatch(batch) : this.#rows.batch(batch));
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    const input = this.#inputColumns();
    if (this.#pushed || input === undefined) {
      callback();
      return;
    }
    try {
      const columns = this.#rows.columns(input);
      callback(
        null,
        this.#columnar
          ? ({ columns, length: 0, cells: columns.map(() => []) } satisfies ColumnBatch)
          : ({ columns, rows: [] } satisfies RowBatch),
      );
    } catch (err) {
      callback(err as Error);
    }
  }
}
