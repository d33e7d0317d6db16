/**
 * Batcher: prepared rows → batches of up to `batchSize` rows, their one-row inputs concatenated into the batch's
 * tensors.
 * objectMode high-water marks count objects, so the readable side is sized in batches (STYLE.md §4).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import { concatRows } from '../core/tensor.js';
import type { Batch, FeaturizedRow } from '../types.js';

export interface BatcherOptions {
  /**
   * Rows per batch (one model request each).
   * @default 4096
   */
  batchSize?: number;
  /** Aborting the signal destroys the stream with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Rows per batch by default: batch 4096 beat 1024 and 256 at nearly every concurrency in the scaling grids of
 * benchmarks/README.md (fewer requests, model runs and stream hops per row), for ~1 MB more per batch in flight.
 * (A `v2-json` client reached 150 MiB with it until its request body was written as bytes.)
 */
export const DEFAULT_BATCH_SIZE = 4096;

export class Batcher extends Transform {
  readonly #batchSize: number;
  #rows: FeaturizedRow[] = [];
  #index = 0;

  constructor(options: BatcherOptions = {}) {
    refuseUnknownKeys('Batcher', options, ['batchSize', 'signal']);
    const batchSize = integerOption('batchSize', options.batchSize, DEFAULT_BATCH_SIZE, 1, 1_000_000);
    const signal = signalOption('signal', options.signal);
    super({
      writableObjectMode: true,
      readableObjectMode: true,
      writableHighWaterMark: batchSize,
      readableHighWaterMark: 2,
      ...(signal ? { signal } : {}),
    });
    this.#batchSize = batchSize;
  }

  override _transform(row: FeaturizedRow, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#rows.push(row);
    if (this.#rows.length >= this.#batchSize) this.push(this.#take());
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#rows.length > 0) this.push(this.#take());
    callback();
  }

  #take(): Batch {
    const rows = this.#rows;
    this.#rows = [];
    return { index: this.#index++, rows, inputs: concatRows(rows.map((r) => r.inputs)) };
  }
}
