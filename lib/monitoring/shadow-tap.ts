/**
 * Takes the challenger's probabilities out of the batches of a champion/challenger run (its outputs renamed by
 * lib/adapters/shadow-scorer.ts) and carries them on the batch as `challenger`, beside the champion's, which the
 * rest of the pipeline sees as usual; and counts how often the two predict different labels, per label the champion
 * predicted, for the run summary.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { disagreementFromMatrix, type Disagreement } from '../core/compare.js';
import { argmaxRow } from '../core/metrics.js';
import { CHALLENGER_OUTPUT } from '../adapters/shadow-scorer.js';
import { float32Data } from '../core/output-values.js';
import type { ScoredBatch } from '../types.js';

/** A scored batch of a champion/challenger run. */
export interface ShadowScoredBatch extends ScoredBatch {
  /** The challenger's probabilities, rows × labels like `probabilities` (the champion's). */
  challenger: Float32Array;
}

export class ShadowTap extends Transform {
  readonly #labels: readonly string[];
  readonly #challengerOutput: string;
  /** Rows by champion prediction (rows) and challenger prediction (columns). */
  readonly #matrix: number[][];

  /** `probabilities` names the probability output (the champion's; the challenger's is renamed). */
  constructor(labels: readonly string[], probabilities: string) {
    super({ objectMode: true, writableHighWaterMark: 1, readableHighWaterMark: 1 });
    this.#labels = labels;
    this.#challengerOutput = `${CHALLENGER_OUTPUT}${probabilities}`;
    this.#matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  }

  /** Agreement so far (all of it once the stream has finished). */
  disagreement(): Disagreement {
    return disagreementFromMatrix(this.#labels, this.#matrix);
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    const k = this.#labels.length;
    const output = batch.outputs.find((t) => t.name === this.#challengerOutput);
    if (output === undefined) {
      callback(
        new Error(
          `The challenger's answer lacks output ${this.#challengerOutput.slice(CHALLENGER_OUTPUT.length)}`,
        ),
      );
      return;
    }
    const champion = batch.probabilities;
    const challenger = float32Data(output);
    for (let i = 0; i < batch.rows.length; i++) {
      const row = this.#matrix[argmaxRow(champion, i, k)] as number[];
      const c = argmaxRow(challenger, i, k);
      row[c] = (row[c] ?? 0) + 1;
    }
    const split: ShadowScoredBatch = { ...batch, challenger };
    callback(null, split);
  }
}
