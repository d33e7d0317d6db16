/**
 * A champion/challenger scorer: both versions score every batch at once; the answer is the champion's outputs
 * followed by the challenger's, each renamed with CHALLENGER_OUTPUT in front (the ShadowTap takes them apart).
 */
import type { BatchScorer } from './types.js';

/** What a challenger's output is named in the shadow scorer's answer: the prefix, then the output's name. */
export const CHALLENGER_OUTPUT = 'challenger:';

export function createShadowScorer(champion: BatchScorer, challenger: BatchScorer): BatchScorer {
  return {
    async score(inputs, signal) {
      const [a, b] = await Promise.all([champion.score(inputs, signal), challenger.score(inputs, signal)]);
      return [...a, ...b.map((t) => ({ ...t, name: `${CHALLENGER_OUTPUT}${t.name}` }))];
    },
    async close() {
      await Promise.all([champion.close(), challenger.close()]);
    },
  };
}
