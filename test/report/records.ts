/** Run records for the report's unit tests: the shape `batch-infer run` appends, with fields overridden. */
import type { FeatureDrift, DriftReport } from '../../lib/core/drift.js';
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
