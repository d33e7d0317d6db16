/**
 * RecordBatcher: source records → batches, the Preprocessor and Batcher of a run in one stage, for every
 * source but the single CSV input (which has its own, lib/streams/csv-batch-reader.ts). It decides every row as
 * they do (lib/core/row-preparer.ts) and emits the same batches, but writes a row's model inputs straight into
 * the batch's tensors: no one-row tensors per row to copy again into the batch, and no row object holding
 * them. A Parquet or PostgreSQL run spent a quarter of its time collecting such short-lived garbage.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { RowPreparer, RowPreparerOptions } from '../core/row-preparer.js';
import type { PreparedRow, SourceRecord } from '../types.js';
import { BatchBuilder } from './batch-builder.js';

export interface RecordBatcherOptions extends RowPreparerOptions {
  /** Rows per batch. */
  batchSize: number;
  signal?: AbortSignal | undefined;
}

export class RecordBatcher extends Transform {
  readonly #batch: BatchBuilder<PreparedRow>;

  constructor(options: RecordBatcherOptions) {
    super({
      objectMode: true,
      // Records are small; a thousand waiting keep a batch filling while the last one is scored.
      writableHighWaterMark: 1024,
      readableHighWaterMark: 2,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#batch = new BatchBuilder(options, options.batchSize);
  }

  /** Decides each row; its `counts`, `columns` and `busyMs` are the run's, as the Preprocessor's would be. */
  get rows(): RowPreparer {
    return this.#batch.rows;
  }

  override _transform(record: SourceRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    let row: number | undefined;
    try {
      row = this.#batch.prepare(record);
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (row !== undefined) {
      const full = this.#batch.add(
        record.file === undefined
          ? { line: record.line, values: record.values, row }
          : { line: record.line, values: record.values, row, file: record.file },
      );
      if (full !== undefined) this.push(full);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const last = this.#batch.take();
    if (last !== undefined) this.push(last);
    callback();
  }
}
