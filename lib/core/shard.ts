/**
 * Deterministic work splits for `--shard i/N`. Both are contiguous, so the N parts concatenated in index order
 * are a single run's output, row for row: several files are split as whole files (like SageMaker Batch
 * Transform, one file never spans two workers), one file as ranges of rows.
 */

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** The half-open range [start, end) of `total` items that shard `index` of `count` takes. */
export function shardRange(total: number, shard: Shard): { start: number; end: number } {
  return {
    start: Math.floor((shard.index * total) / shard.count),
    end: Math.floor(((shard.index + 1) * total) / shard.count),
  };
}

/** `part-00002-of-00004.csv`: sortable, and names the whole it belongs to. */
export function partName(shard: Shard, extension = '.csv'): string {
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `part-${pad(shard.index)}-of-${pad(shard.count)}${extension}`;
}

/** Parses `i/N` (0 ≤ i < N); undefined when the text is not one. */
export function parseShard(text: string): Shard | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return count >= 1 && index < count ? { index, count } : undefined;
}
