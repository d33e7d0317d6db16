/**
 * Passes scored batches through unchanged, counting each row's predicted label (the argmax of its
 * probabilities) for prediction drift.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { argmaxRow } from '../core/metrics.js';
import type { ScoredBatch } from '../types.js';

export class PredictionTap extends Transform {
  readonly #width: number;
  readonly #count: (label: number) => void;

  constructor(labels: number, count: (label: number) => void) {
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 1 });
    this.#width = labels;
    this.#count = count;
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (let i = 0; i < batch.rows.length; i++) this.#count(argmaxRow(batch.probabilities, i, this.#width));
    callback(null, batch);
  }
}
