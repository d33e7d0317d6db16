/**
 * Batcher: prepared rows → batches of up to `batchSize` rows with their features packed into one tensor.
 * objectMode high-water marks count objects, so the readable side is sized in batches (STYLE.md §4).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import type { Batch, PreparedRow } from '../types.js';

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
  #rows: PreparedRow[] = [];
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

  override _transform(row: PreparedRow, _encoding: BufferEncoding, callback: TransformCallback): void {
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
    const width = rows[0]?.features.length ?? 0;
    const tensor = new Float32Array(rows.length * width);
    rows.forEach((r, i) => tensor.set(r.features, i * width));
    return { index: this.#index++, rows, tensor, width };
  }
}
