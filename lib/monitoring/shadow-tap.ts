/**
 * Splits the batches of a champion/challenger run (rows × 2 · labels, from lib/adapters/shadow-scorer.ts) into
 * the champion's probabilities, which the rest of the pipeline sees as usual, and the challenger's, carried on
 * the batch as `challenger`; and counts how often the two predict different labels, per label the champion
 * predicted, for the run summary.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { disagreementFromMatrix, type Disagreement } from '../core/compare.js';
import { argmaxRow } from '../core/metrics.js';
import type { ScoredBatch } from '../types.js';

/** A scored batch of a champion/challenger run. */
export interface ShadowScoredBatch extends ScoredBatch {
  /** The challenger's probabilities, rows × labels like `probabilities` (the champion's). */
  challenger: Float32Array;
}

export class ShadowTap extends Transform {
  readonly #labels: readonly string[];
  /** Rows by champion prediction (rows) and challenger prediction (columns). */
  readonly #matrix: number[][];

  constructor(labels: readonly string[]) {
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 1 });
    this.#labels = labels;
    this.#matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  }

  /** Agreement so far (all of it once the stream has finished). */
  disagreement(): Disagreement {
    return disagreementFromMatrix(this.#labels, this.#matrix);
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    const k = this.#labels.length;
    const rows = batch.rows.length;
    const champion = new Float32Array(rows * k);
    const challenger = new Float32Array(rows * k);
    for (let i = 0; i < rows; i++) {
      champion.set(batch.probabilities.subarray(2 * i * k, (2 * i + 1) * k), i * k);
      challenger.set(batch.probabilities.subarray((2 * i + 1) * k, (2 * i + 2) * k), i * k);
      const row = this.#matrix[argmaxRow(champion, i, k)] as number[];
      const c = argmaxRow(challenger, i, k);
      row[c] = (row[c] ?? 0) + 1;
    }
    const split: ShadowScoredBatch = { ...batch, probabilities: champion, challenger };
    callback(null, split);
  }
}
