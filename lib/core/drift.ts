/**
 * Drift and data quality against a model's reference profile (shared/research/monitoring.md §8.3): per-feature
 * PSI (primary) and Jensen-Shannon distance on the reference's quantile bins, prediction drift on the label
 * distribution, missing and out-of-range ratios. `DriftAccumulator` only counts, so a run of any length is
 * profiled in constant memory; `report()` turns the counts into the table the run history and report show.
 *
 * A feature drifts when either statistic crosses its §8.3 drift line: PSI ≥ 0.25 (the primary: its score,
 * threshold and level lead the table) or Jensen-Shannon distance ≥ 0.1 (the secondary, with Evidently's
 * default threshold). On these bins JS ≥ 0.1 is the more sensitive of the two (it matches a PSI of about
 * 0.06), so a feature PSI calls `ok` or `warn` can still drift; its level is then `drift` too. Below
 * MIN_SAMPLE rows both are noisy (a year of Seattle's own weather reaches JS 0.12 on one feature), which is
 * why such runs are marked `low_sample` and only warned about.
 */
import { binIndex, type ReferenceProfile } from './profile.js';

/** PSI levels: < 0.1 ok, 0.1–0.25 warn, ≥ 0.25 drift. JS distance ≥ 0.1 is drift (Evidently's default). */
export const PSI_WARN = 0.1;
export const PSI_DRIFT = 0.25;
export const JS_DRIFT = 0.1;
/** A feature share at or above this makes the dataset drifted (Evidently's drift_share). */
export const DATASET_DRIFT_SHARE = 0.5;
/** Below this many rows, bin-based distances are noisy: results are marked low_sample and only warn. */
export const MIN_SAMPLE = 1000;
/** Empty bins are floored before the logarithm, as Evidently does. */
const FLOOR = 1e-4;

export type DriftLevel = 'ok' | 'warn' | 'drift';

export interface FeatureDrift {
  feature: string;
  /** The primary statistic, whose `score` and `threshold` these are. */
  method: 'psi';
  score: number;
  threshold: number;
  /** `drift` when the feature drifted (by either statistic), else PSI's `warn` or `ok`. */
  level: DriftLevel;
  /** PSI ≥ `threshold` or `js_distance` ≥ `js_threshold`. */
  drifted: boolean;
  /** The secondary statistic: Jensen-Shannon distance (base 2) on the same bins. */
  js_distance: number;
  js_threshold: number;
  missing_ratio: number;
  out_of_range_ratio: number;
  /** Share of current values per reference bin, for the report's distribution charts. */
  current: number[];
  reference: number[];
}

export interface DriftReport {
  rows: number;
  low_sample: boolean;
  dataset_drift: boolean;
  drifted_features_ratio: number;
  features: FeatureDrift[];
  prediction: {
    method: 'psi';
    score: number;
    threshold: number;
    level: DriftLevel;
    current: Record<string, number>;
    reference: Record<string, number>;
  };
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

/** Population stability index of `current` against `reference` (both shares over the same bins). */
export function psi(reference: readonly number[], current: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i] ?? 0, FLOOR);
    const c = Math.max(current[i] ?? 0, FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

/** Jensen-Shannon distance (base 2, so 0 … 1): the square root of the JS divergence. */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] ?? 0;
    const b = q[i] ?? 0;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, divergence));
}

export function psiLevel(score: number): DriftLevel {
  if (score >= PSI_DRIFT) return 'drift';
  return score >= PSI_WARN ? 'warn' : 'ok';
}

export class DriftAccumulator {
  readonly #reference: ReferenceProfile;
  readonly #labels: readonly string[];
  readonly #bins: number[][];
  readonly #missing: number[];
  readonly #outOfRange: number[];
  readonly #predicted: number[];
  #rows = 0;

  constructor(reference: ReferenceProfile, labels: readonly string[]) {
    this.#reference = reference;
    this.#labels = labels;
    this.#bins = reference.features.map((f) => new Array<number>(f.edges.length + 1).fill(0));
    this.#missing = reference.features.map(() => 0);
    this.#outOfRange = reference.features.map(() => 0);
    this.#predicted = labels.map(() => 0);
  }

  /** Counts one row's raw feature values (in the reference's feature order); NaN marks a missing value. */
  addFeatures(raw: ArrayLike<number>): void {
    this.#rows++;
    this.#reference.features.forEach((f, i) => {
      const v = raw[i] as number;
      if (Number.isNaN(v)) {
        this.#missing[i] = (this.#missing[i] ?? 0) + 1;
        return;
      }
      if (v < f.min || v > f.max) this.#outOfRange[i] = (this.#outOfRange[i] ?? 0) + 1;
      const bins = this.#bins[i] as number[];
      const b = binIndex(f.edges, v);
      bins[b] = (bins[b] ?? 0) + 1;
    });
  }

  /** Counts one predicted label index. */
  addPrediction(label: number): void {
    this.#predicted[label] = (this.#predicted[label] ?? 0) + 1;
  }

  report(): DriftReport {
    const rows = this.#rows;
    const features = this.#reference.features.map((f, i): FeatureDrift => {
      const current = shares(this.#bins[i] as number[]);
      const score = psi(f.proportions, current);
      const js = jensenShannonDistance(f.proportions, current);
      const drifted = psiLevel(score) === 'drift' || js >= JS_DRIFT;
      return {
        feature: f.name,
        method: 'psi',
        score: round(score),
        threshold: PSI_DRIFT,
        level: drifted ? 'drift' : psiLevel(score),
        drifted,
        js_distance: round(js),
        js_threshold: JS_DRIFT,
        missing_ratio: rows === 0 ? 0 : round((this.#missing[i] ?? 0) / rows),
        out_of_range_ratio: rows === 0 ? 0 : round((this.#outOfRange[i] ?? 0) / rows),
        current: current.map(round),
        reference: f.proportions,
      };
    });
    const drifted = features.filter((f) => f.drifted).length;
    const ratio = features.length === 0 ? 0 : drifted / features.length;
    const reference = this.#labels.map((l) => this.#reference.predictions[l] ?? 0);
    const current = shares(this.#predicted);
    const predictionScore = psi(reference, current);
    return {
      rows,
      low_sample: rows < MIN_SAMPLE,
      dataset_drift: ratio >= DATASET_DRIFT_SHARE,
      drifted_features_ratio: round(ratio),
      features: features.sort((a, b) => b.score - a.score),
      prediction: {
        method: 'psi',
        score: round(predictionScore),
        threshold: PSI_DRIFT,
        level: psiLevel(predictionScore),
        current: Object.fromEntries(this.#labels.map((l, i) => [l, round(current[i] ?? 0)])),
        reference: Object.fromEntries(this.#labels.map((l, i) => [l, reference[i] ?? 0])),
      },
    };
  }
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
