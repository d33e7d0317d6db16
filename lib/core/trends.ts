/**
 * Offline alert rules: the run's record judged against the run history, so a job warns even where no
 * Prometheus runs (research §8.2, "Offline use"). Each rule is named after its twin in
 * deploy/prometheus/rules.yml and uses the same threshold; the trend checks add research §8.4's robust
 * baseline (median and MAD of the previous successful runs). Pure: no I/O, no clock.
 */
import type { RunRecord } from '../monitoring/run-record.js';

export interface Alert {
  /** The Prometheus twin alert's name. */
  alert: string;
  severity: 'page' | 'ticket' | 'warning';
  value: number;
  threshold: number;
  message: string;
  feature?: string;
}

/** Previous successful runs the trend baseline takes at most (research §8.4: the last 10–20). */
export const BASELINE_RUNS = 20;
/** A baseline needs this many runs before a trend rule judges anything. */
export const MIN_BASELINE = 3;
/** A run whose throughput is under this share of the baseline median fired BatchInferenceThroughputDrop. */
export const THROUGHPUT_DROP = 0.5;
/** Robust z-score past which a run is an outlier; changes under ROBUST_FLOOR (relative) never are. */
export const ROBUST_Z = 3;
export const ROBUST_FLOOR = 0.2;
export const REJECT_RATIO = 0.01;
export const PREDICTION_PSI = 0.25;
export const MISSING_RATIO = 0.05;
export const OUT_OF_RANGE_RATIO = 0.01;
/** Failed runs in a row, this run included, that fire BatchInferenceNotSucceededRecently. */
export const FAILED_RUNS = 3;
/** Below this many rows Prometheus's twins stay silent; offline, drift only warns. */
export const MIN_ROWS = 1000;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** (x − median) / (1.4826·MAD): a z-score that a few earlier outliers cannot move. 0 when MAD is 0. */
export function robustZ(x: number, baseline: readonly number[]): number {
  const m = median(baseline);
  const mad = median(baseline.map((v) => Math.abs(v - m)));
  return mad === 0 ? 0 : (x - m) / (1.4826 * mad);
}

function throughputDrop(run: RunRecord, history: readonly RunRecord[]): Alert[] {
  if (run.status !== 'succeeded' || run.rows.read < MIN_ROWS) return [];
  const baseline = history
    .filter((r) => r.status === 'succeeded' && r.rows.read >= MIN_ROWS)
    .slice(-BASELINE_RUNS)
    .map((r) => r.throughput.rows_per_s);
  if (baseline.length < MIN_BASELINE) return [];
  const x = run.throughput.rows_per_s;
  const m = median(baseline);
  const z = robustZ(x, baseline);
  const halved = x < THROUGHPUT_DROP * m;
  const outlier = z < -ROBUST_Z && x < (1 - ROBUST_FLOOR) * m;
  if (!halved && !outlier) return [];
  return [
    {
      alert: 'BatchInferenceThroughputDrop',
      severity: 'ticket',
      value: x,
      threshold: halved ? THROUGHPUT_DROP * m : (1 - ROBUST_FLOOR) * m,
      message: `${x} rows/s against a median of ${m} over the last ${baseline.length} successful runs (robust z ${z.toFixed(1)})`,
    },
  ];
}

function rowFailures(run: RunRecord): Alert[] {
  const { read, invalid, failed } = run.rows;
  const ratio = read === 0 ? 0 : (invalid + failed) / read;
  if (ratio <= REJECT_RATIO) return [];
  return [
    {
      alert: 'BatchInferenceRowFailureRatioHigh',
      severity: 'ticket',
      value: ratio,
      threshold: REJECT_RATIO,
      message: `${invalid} invalid and ${failed} failed of ${read} rows`,
    },
  ];
}

function drift(run: RunRecord): Alert[] {
  const d = run.drift;
  if (d === null) return [];
  // A low-sample run's scores are noisy: it still tells, but as a warning (its Prometheus twin stays silent).
  const severity = d.low_sample ? 'warning' : 'ticket';
  const note = d.low_sample ? ` (low sample: ${d.rows} rows)` : '';
  const alerts: Alert[] = [];
  if (d.dataset_drift)
    alerts.push({
      alert: 'BatchInferenceDataDrift',
      severity,
      value: d.drifted_features_ratio,
      threshold: 0.5,
      message: `${d.features
        .filter((f) => f.drifted)
        .map((f) => `${f.feature} (PSI ${f.score}, JS ${f.js_distance})`)
        .join(', ')} drifted${note}`,
    });
  if (d.prediction.score >= PREDICTION_PSI)
    alerts.push({
      alert: 'BatchInferencePredictionDrift',
      severity,
      value: d.prediction.score,
      threshold: PREDICTION_PSI,
      message: `prediction PSI ${d.prediction.score}${note}`,
    });
  return alerts;
}

function quality(run: RunRecord): Alert[] {
  return (run.quality?.features ?? []).flatMap((f): Alert[] => [
    ...(f.missing_ratio > MISSING_RATIO
      ? [
          {
            alert: 'BatchInferenceFeatureMissingValues',
            severity: 'ticket' as const,
            value: f.missing_ratio,
            threshold: MISSING_RATIO,
            feature: f.feature,
            message: `${f.feature}: ${(100 * f.missing_ratio).toFixed(1)} % missing`,
          },
        ]
      : []),
    ...(f.out_of_range_ratio > OUT_OF_RANGE_RATIO
      ? [
          {
            alert: 'BatchInferenceFeatureOutOfRange',
            severity: 'ticket' as const,
            value: f.out_of_range_ratio,
            threshold: OUT_OF_RANGE_RATIO,
            feature: f.feature,
            message: `${f.feature}: ${(100 * f.out_of_range_ratio).toFixed(1)} % outside the reference range`,
          },
        ]
      : []),
  ]);
}

function notSucceeded(run: RunRecord, history: readonly RunRecord[]): Alert[] {
  const last = [...history.slice(-(FAILED_RUNS - 1)), run];
  if (last.length < FAILED_RUNS || last.some((r) => r.status === 'succeeded')) return [];
  return [
    {
      alert: 'BatchInferenceNotSucceededRecently',
      severity: 'page',
      value: FAILED_RUNS,
      threshold: FAILED_RUNS,
      message: `the last ${FAILED_RUNS} runs failed`,
    },
  ];
}

/** The alerts `run` fires, given the runs before it (oldest first, other pipelines already left out). */
export function evaluateRules(run: RunRecord, history: readonly RunRecord[]): Alert[] {
  return [
    ...notSucceeded(run, history),
    ...rowFailures(run),
    ...throughputDrop(run, history),
    ...drift(run),
    ...quality(run),
  ];
}
