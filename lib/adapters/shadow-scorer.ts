/**
 * Champion/challenger scoring: one BatchScorer over two, every batch sent to both at once. A row of its output
 * is the champion's probabilities followed by the challenger's (rows × 2 · labels), so ordering, retries and
 * the bisection of refused rows in the ModelScorer treat the pair as one call and keep the two aligned row by
 * row; ShadowTap (lib/monitoring/shadow-tap.ts) splits them again.
 */
import type { BatchScorer } from './types.js';

/** Interleaves two rows × k matrices into one rows × 2k matrix: a's row, then b's. */
function interleave(a: Float32Array, b: Float32Array, rows: number): Float32Array {
  const k = a.length / rows;
  if (b.length !== a.length)
    throw new Error(`champion and challenger answered ${k} and ${b.length / rows} values per row`);
  const out = new Float32Array(2 * a.length);
  for (let i = 0; i < rows; i++) {
    out.set(a.subarray(i * k, (i + 1) * k), 2 * i * k);
    out.set(b.subarray(i * k, (i + 1) * k), (2 * i + 1) * k);
  }
  return out;
}

export function createShadowScorer(champion: BatchScorer, challenger: BatchScorer): BatchScorer {
  return {
    async score(tensor, rows, signal) {
      const [a, b] = await Promise.all([
        champion.score(tensor, rows, signal),
        challenger.score(tensor, rows, signal),
      ]);
      return interleave(a, b, rows);
    },
    async close() {
      await Promise.all([champion.close(), challenger.close()]);
    },
  };
}
