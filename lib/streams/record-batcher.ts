/**
 * RecordBatcher: source records → batches, the Preprocessor and Batcher of a run in one stage, for every
 * source but the single CSV input (which has its own, lib/streams/csv-batch-reader.ts). It decides every row as
 * they do (lib/core/row-preparer.ts) and emits the same batches, but writes a row's model inputs straight into
 * the batch's tensors: no one-row tensors per row to copy again into the batch, and no row object holding
 * them. A Parquet or PostgreSQL run spent a quarter of its time collecting such short-lived garbage.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { RowPreparer, type RowPreparerOptions } from '../core/row-preparer.js';
import { sliceRows, type Tensor } from '../core/tensor.js';
import type { Batch, PreparedRow, SourceRecord } from '../types.js';

export interface RecordBatcherOptions extends RowPreparerOptions {
  /** Rows per batch. */
  batchSize: number;
  signal?: AbortSignal | undefined;
}

export class RecordBatcher extends Transform {
  /** Decides each row; its `counts`, `columns` and `busyMs` are the run's, as the Preprocessor's would be. */
  readonly rows: RowPreparer;
  readonly #batchSize: number;
  #tensors: Tensor[];
  #batch: PreparedRow[] = [];
  #index = 0;

  constructor(options: RecordBatcherOptions) {
    super({
      objectMode: true,
      // Records are small; a thousand waiting keep a batch filling while the last one is scored.
      writableHighWaterMark: 1024,
      readableHighWaterMark: 2,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.rows = new RowPreparer(options);
    this.#batchSize = options.batchSize;
    this.#tensors = options.plan.allocate(this.#batchSize);
  }

  override _transform(record: SourceRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    let row: number | undefined;
    try {
      row = this.rows.prepare(record, this.#tensors, this.#batch.length);
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (row !== undefined) {
      this.#batch.push(
        record.file === undefined
          ? { line: record.line, values: record.values, row }
          : { line: record.line, values: record.values, row, file: record.file },
      );
      if (this.#batch.length === this.#batchSize) this.#emit();
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#batch.length > 0) this.#emit();
    callback();
  }

  #emit(): void {
    const rows = this.#batch;
    const inputs = rows.length === this.#batchSize ? this.#tensors : sliceRows(this.#tensors, 0, rows.length);
    this.#batch = [];
    this.#tensors = this.rows.plan.allocate(this.#batchSize);
    this.push({ index: this.#index++, rows, inputs } satisfies Batch);
  }
}
