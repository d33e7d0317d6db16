/**
 * Finding the rows a server refuses. When the server answers a batch with "bad input" (400/422), one row or a
 * few spoil it; scoring the two halves apart, recursively, isolates them in O(bad · log n) extra requests, and
 * every other row is still scored. Halves run one after the other, so a batch never uses more than its one
 * request slot.
 */
import { concatRows, rowsOf, sliceRows, type Tensor } from './tensor.js';

export interface BisectResult {
  /** Indices of the rows that were scored, ascending. */
  kept: number[];
  /** Their outputs, `kept.length` rows each. */
  outputs: Tensor[];
  /** Rows refused on their own, ascending, with the server's reason. */
  refused: { index: number; error: Error }[];
}

/**
 * Scores the rows of `inputs`; `isRefusal` tells a data error (bisect) from any other failure (rethrown at
 * once).
 */
export async function scoreBisecting(
  score: (inputs: Tensor[]) => Promise<Tensor[]>,
  inputs: readonly Tensor[],
  isRefusal: (error: unknown) => boolean,
): Promise<BisectResult> {
  const rows = rowsOf(inputs);
  const parts: { start: number; count: number; outputs: Tensor[] }[] = [];
  const refused: { index: number; error: Error }[] = [];
  const visit = async (start: number, count: number): Promise<void> => {
    try {
      const outputs = await score(
        start === 0 && count === rows ? [...inputs] : sliceRows(inputs, start, count),
      );
      parts.push({ start, count, outputs });
    } catch (error) {
      if (!isRefusal(error)) throw error;
      if (count === 1) {
        refused.push({ index: start, error: error as Error });
        return;
      }
      const half = Math.ceil(count / 2);
      await visit(start, half);
      await visit(start + half, count - half);
    }
  };
  await visit(0, rows);
  const kept: number[] = [];
  for (const part of parts) for (let i = 0; i < part.count; i++) kept.push(part.start + i);
  return { kept, outputs: concatRows(parts.map((p) => p.outputs)), refused };
}
