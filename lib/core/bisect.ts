/**
 * Finding the rows a server refuses. When the server answers a batch with "bad input" (400/422), one row or a
 * few spoil it; scoring the two halves apart, recursively, isolates them in O(bad · log n) extra requests, and
 * every other row is still scored. Halves run one after the other, so a batch never uses more than its one
 * request slot.
 */

export interface BisectResult {
  /** Indices of the rows that were scored, ascending. */
  kept: number[];
  /** Their outputs, `kept.length × k` row-major. */
  outputs: Float32Array;
  /** Rows refused on their own, ascending, with the server's reason. */
  refused: { index: number; error: Error }[];
}

/**
 * Scores `rows` rows of `width` features; `isRefusal` tells a data error (bisect) from any other failure
 * (rethrown at once).
 */
export async function scoreBisecting(
  score: (tensor: Float32Array, rows: number) => Promise<Float32Array>,
  tensor: Float32Array,
  rows: number,
  width: number,
  isRefusal: (error: unknown) => boolean,
): Promise<BisectResult> {
  const parts: { start: number; count: number; outputs: Float32Array }[] = [];
  const refused: { index: number; error: Error }[] = [];
  const visit = async (start: number, count: number): Promise<void> => {
    try {
      const outputs = await score(tensor.subarray(start * width, (start + count) * width), count);
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
  if (parts.length === 1 && refused.length === 0) {
    const only = parts[0] as (typeof parts)[number];
    return { kept: Array.from({ length: rows }, (_, i) => i), outputs: only.outputs, refused };
  }
  const kept: number[] = [];
  const total = parts.reduce((n, p) => n + p.outputs.length, 0);
  const outputs = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    for (let i = 0; i < part.count; i++) kept.push(part.start + i);
    outputs.set(part.outputs, offset);
    offset += part.outputs.length;
  }
  return { kept, outputs, refused };
}
