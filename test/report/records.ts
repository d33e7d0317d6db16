/**
 * Run records for the report's unit tests: the shape `batch-infer run` appends, with fields overridden; and a
 * champion/challenger comparison computed from seeded predictions.
 */
import { compareModels, type LabelledPredictions, type ModelComparison } from '../../lib/core/compare.js';
import type { FeatureDrift, DriftReport } from '../../lib/core/drift.js';
import { mulberry32 } from '../../lib/core/prng.js';
import type { RunRecord } from '../../lib/monitoring/run-record.js';

export function feature(name: string, score: number, over: Partial<FeatureDrift> = {}): FeatureDrift {
  const level = score >= 0.25 ? 'drift' : score >= 0.1 ? 'warn' : 'ok';
  return {
    feature: name,
    method: 'psi',
    score,
    threshold: 0.25,
    level,
    drifted: level === 'drift',
    js_distance: score / 2,
    js_threshold: 0.1,
    missing_ratio: 0,
    out_of_range_ratio: 0,
    current: [0.1, 0.2, 0.3, 0.4],
    reference: [0.25, 0.25, 0.25, 0.25],
    ...over,
  };
}

export function drift(features: FeatureDrift[], over: Partial<DriftReport> = {}): DriftReport {
  const drifted = features.filter((f) => f.drifted).length;
  return {
    rows: 5000,
    low_sample: false,
    dataset_drift: features.length > 0 && drifted / features.length >= 0.5,
    drifted_features_ratio: features.length === 0 ? 0 : drifted / features.length,
    features,
    prediction: {
      method: 'psi',
      score: 0.02,
      threshold: 0.25,
      level: 'ok',
      current: { rain: 0.4, sun: 0.6 },
      reference: { rain: 0.45, sun: 0.55 },
    },
    ...over,
  };
}

/** A successful run of 5000 rows, started `minute` minutes after midnight on 2026-01-01. */
export function record(minute: number, over: Partial<RunRecord> = {}): RunRecord {
  const started = new Date(Date.UTC(2026, 0, 1, 0, minute));
  return {
    status: 'succeeded',
    pipeline: 'nightly',
    model: { name: 'weather', version: 1 },
    inputs: ['in.csv'],
    rows: { read: 5000, ok: 5000, invalid: 0, failed: 0 },
    timings: {
      started_at: started.toISOString(),
      finished_at: new Date(started.getTime() + 2000).toISOString(),
      duration_ms: 2000,
      stages_ms: { read: 1500, preprocess: 200, infer: 1200, write: 10 },
    },
    throughput: { rows_per_s: 2500 },
    requests: {
      count: 20,
      p50_ms: 40,
      p95_ms: 90,
      p99_ms: 120,
      retries: 0,
      by_outcome: { success: 20, error: 0, timeout: 0 },
    },
    drift: drift([feature('wind', 0.05), feature('temp_max', 0.3)]),
    quality: null,
    alerts: [],
    ...over,
  };
}

export const jsonl = (records: readonly RunRecord[]): string =>
  records.map((r) => JSON.stringify(r)).join('\n') + '\n';

/**
 * A seeded model's predictions on `truth`: right with probability `skill`, else one of the other labels; its
 * pick gets probability `confidence`, the rest share what is left.
 */
function predictions(
  truth: readonly number[],
  k: number,
  skill: number,
  confidence: number,
  seed: number,
): LabelledPredictions {
  const random = mulberry32(seed);
  const predicted = truth.map((t) => (random() < skill ? t : (t + 1 + Math.floor(random() * (k - 1))) % k));
  const probabilities = predicted.flatMap((p) =>
    Array.from({ length: k }, (_, c) => (c === p ? confidence : (1 - confidence) / (k - 1))),
  );
  return { truth: [...truth], predicted, probabilities };
}

/**
 * A real comparison, made by compareModels (never hand-written figures): on `better` the challenger is far
 * more accurate, on `worse` far less, on `same` it is the champion with a few predictions changed — so the
 * three verdicts (beyond noise and better, beyond noise and worse, within noise) all occur.
 */
export function comparison(
  labels: readonly string[] = ['rain', 'snow', 'sun'],
  names: readonly [string, string, string] = ['better', 'worse', 'same'],
  model = 'weather',
): ModelComparison {
  const random = mulberry32(11);
  const k = labels.length;
  const truth = Array.from({ length: 300 }, () => Math.floor(random() * k));
  const champion = predictions(truth, k, 0.7, 0.6, 1);
  const nudged: LabelledPredictions = {
    ...champion,
    predicted: Array.from(champion.predicted, (p, i) => (i % 50 === 0 ? (p + 1) % k : p)),
  };
  return compareModels(
    model,
    { champion: 1, challenger: 2 },
    labels,
    [
      { name: names[0], champion, challenger: predictions(truth, k, 0.95, 0.9, 2) },
      { name: names[1], champion, challenger: predictions(truth, k, 0.4, 0.9, 3) },
      { name: names[2], champion, challenger: nudged },
    ],
    { resamples: 200, seed: 5 },
  );
}
