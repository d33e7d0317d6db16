/**
 * BatchBuilder: the batch being filled by a stage that reads records and emits batches (the CSV batch reader,
 * the record batcher). Each row's model inputs are written straight into the batch's tensors by the row
 * preparer; a full batch is handed over and a new one started.
 */
import { RowPreparer, type RowPreparerOptions } from '../core/row-preparer.js';
import { sliceRows, type Tensor } from '../core/tensor.js';
import type { Batch, PreparedRow, SourceRecord } from '../types.js';

export class BatchBuilder<Row extends PreparedRow> {
  /** Decides each row; its `counts`, `columns` and `busyMs` are the run's, as the Preprocessor's would be. */
  readonly rows: RowPreparer;
  readonly #batchSize: number;
  #tensors: Tensor[];
  #batch: Row[] = [];
  #index = 0;

  constructor(options: RowPreparerOptions, batchSize: number) {
    this.rows = new RowPreparer(options);
    this.#batchSize = batchSize;
    this.#tensors = options.plan.allocate(batchSize);
  }

  /**
   * Writes the record's inputs into the batch's next row: its row number when it is a row to score, which the
   * caller then `add`s; undefined for the header, a row passed over or a rejected one. Throws only for a header
   * that lacks a needed column.
   */
  prepare(record: SourceRecord): number | undefined {
    return this.rows.prepare(record, this.#tensors, this.#batch.length);
  }

  /** Adds the row just prepared; returns the batch when that filled it. */
  add(row: Row): Batch | undefined {
    this.#batch.push(row);
    return this.#batch.length === this.#batchSize ? this.take() : undefined;
  }

  /** The rows so far as a batch (undefined when there is none), and a new batch started. */
  take(): Batch | undefined {
    const rows = this.#batch;
    if (rows.length === 0) return undefined;
    const inputs = rows.length === this.#batchSize ? this.#tensors : sliceRows(this.#tensors, 0, rows.length);
    this.#batch = [];
    this.#tensors = this.rows.plan.allocate(this.#batchSize);
    return { index: this.#index++, rows, inputs };
  }
}
