/**
 * Reference profiles for drift checks: per-feature quantile bin edges with the share of the training data in
 * each bin, min/max and missing ratio, plus the share of each predicted label. Computed at training time and
 * stored in model.json; a batch run computes the same shape on its own data to compare.
 */

export interface FeatureProfile {
  name: string;
  count: number;
  missing_ratio: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Inner bin edges (ascending, distinct); bin i holds values in (edges[i-1], edges[i]]. */
  edges: number[];
  /** Share of values in each of the edges.length + 1 bins; sums to 1. */
  proportions: number[];
}

export interface ReferenceProfile {
  rows: number;
  features: FeatureProfile[];
  /** Share of each predicted label, in the model's label order. */
  predictions: Record<string, number>;
}

/** Quantile of sorted values with linear interpolation (type 7, as numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Index of the bin a value falls in, given ascending inner edges: bin i is (edges[i-1], edges[i]]. */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= (edges[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function binProportions(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = binIndex(edges, values[i] as number);
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return counts.map((c) => (values.length === 0 ? 0 : c / values.length));
}

/** Profile of one feature's raw values; `missing` counts rows where the value could not be computed. */
export function profileFeature(
  name: string,
  values: ArrayLike<number>,
  missing: number,
  bins = 10,
): FeatureProfile {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = n === 0 ? 0 : sum / n;
  let sq = 0;
  for (const v of sorted) sq += (v - mean) ** 2;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = round(quantile(sorted, k / bins));
    if (edges.length === 0 || edge > (edges[edges.length - 1] as number)) edges.push(edge);
  }
  return {
    name,
    count: n,
    missing_ratio: n + missing === 0 ? 0 : missing / (n + missing),
    min: round(sorted[0] ?? 0),
    max: round(sorted[n - 1] ?? 0),
    mean: round(mean),
    std: round(n === 0 ? 0 : Math.sqrt(sq / n)),
    edges,
    proportions: binProportions(edges, sorted).map(round),
  };
}

/** Share of each label among predicted label indices. */
export function labelShares(labels: readonly string[], predicted: ArrayLike<number>): Record<string, number> {
  const counts = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < predicted.length; i++) {
    const k = predicted[i] as number;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return Object.fromEntries(
    labels.map((l, i) => [l, round((counts[i] ?? 0) / Math.max(1, predicted.length))]),
  );
}

/** Profiles are written to JSON: 9 significant digits keep them exact enough and the file stable. */
function round(x: number): number {
  return Number(x.toPrecision(9));
}
