/**
 * What the report shows, worked out before any markup: from the run history, which pipeline, which runs, and
 * the latest run against its baseline (the median of the successful runs before it, as lib/core/trends.ts
 * judges throughput); and a champion/challenger comparison, shown as it was computed. Either may be absent,
 * not both. Pure: the sections only lay this out.
 */
import { versionNames, type ModelComparison } from '../core/compare.js';
import { BASELINE_RUNS, median } from '../core/trends.js';
import type { DriftReport } from '../core/drift.js';
import type { RunRecord } from '../monitoring/run-record.js';

export interface ReportOptions {
  /** Page title; by default `batch-infer: <pipeline>`, or for a comparison alone `batch-infer: <model> v1 against v2`. */
  title?: string;
  /** Runs shown in the trend charts and the run table, the latest last. */
  last: number;
  /** The pipeline to report on; by default the latest run's. */
  pipeline?: string;
  /** When the report was made, shown in its footer. */
  generatedAt: Date;
}

/** A run with its 1-based number in its pipeline's history, so runs are named the same in every chart. */
export interface NumberedRun {
  number: number;
  record: RunRecord;
}

/** The latest run's value next to the baseline median; null when either is not known. */
export interface Comparison {
  value: number | null;
  median: number | null;
}

/** The run history's part of the report. */
export interface HistoryView {
  pipeline: string;
  /** Runs of the pipeline in the history. */
  total: number;
  /** The last `last` runs, oldest first; never empty. */
  runs: readonly NumberedRun[];
  latest: NumberedRun;
  /** Successful runs before the latest that the baseline medians are taken over (at most BASELINE_RUNS). */
  baselineRuns: number;
  throughput: Comparison;
  duration: Comparison;
  p95: Comparison;
  /** Other pipelines that share the history file. */
  otherPipelines: string[];
}

export interface ReportView {
  title: string;
  generatedAt: string;
  /** Null for a report of a comparison alone. */
  history: HistoryView | null;
  /** Null for a report of the history alone. */
  comparison: ModelComparison | null;
}

/** What a report is made from: a run history, a comparison, or both. */
export interface ReportSources {
  /** Every run in the history file, oldest first; not empty. */
  history?: readonly RunRecord[];
  comparison?: ModelComparison;
}

/**
 * The run's drift report, or null when it has none or profiled no row: a run that failed before reading
 * anything compares empty bins with the reference, and its scores (PSI ≈ 7) say nothing about the data.
 */
export function driftOf(run: RunRecord): DriftReport | null {
  return run.drift === null || run.drift.rows === 0 ? null : run.drift;
}

function compare(
  value: number | null,
  baseline: readonly RunRecord[],
  pick: (r: RunRecord) => number | null,
): Comparison {
  const values = baseline.map(pick).filter((v): v is number => v !== null);
  return { value, median: values.length === 0 ? null : median(values) };
}

function historyView(history: readonly RunRecord[], options: ReportOptions): HistoryView {
  const pipeline = options.pipeline ?? history[history.length - 1]?.pipeline;
  const all = history
    .filter((r) => r.pipeline === pipeline)
    .map((record, i): NumberedRun => ({ number: i + 1, record }));
  const latest = all[all.length - 1];
  if (pipeline === undefined || latest === undefined)
    throw new RangeError(`the history has no runs of pipeline "${pipeline ?? ''}"`);
  const baseline = all
    .slice(0, -1)
    .map((r) => r.record)
    .filter((r) => r.status === 'succeeded')
    .slice(-BASELINE_RUNS);
  const run = latest.record;
  return {
    pipeline,
    total: all.length,
    runs: all.slice(-options.last),
    latest,
    baselineRuns: baseline.length,
    throughput: compare(run.throughput.rows_per_s, baseline, (r) => r.throughput.rows_per_s),
    duration: compare(run.timings.duration_ms, baseline, (r) => r.timings.duration_ms),
    p95: compare(run.requests.p95_ms, baseline, (r) => r.requests.p95_ms),
    otherPipelines: [...new Set(history.map((r) => r.pipeline))].filter((p) => p !== pipeline),
  };
}

/**
 * The view of a history, a comparison or both. Throws a RangeError when neither is given, or when
 * `options.pipeline` has no runs in the history.
 */
export function reportView(sources: ReportSources, options: ReportOptions): ReportView {
  const history = sources.history === undefined ? null : historyView(sources.history, options);
  const comparison = sources.comparison ?? null;
  let title: string;
  if (options.title !== undefined) title = options.title;
  else if (history !== null) title = `batch-infer: ${history.pipeline}`;
  else if (comparison !== null) {
    const v = versionNames(comparison);
    title = `batch-infer: ${comparison.model} ${v.champion} against ${v.challenger}`;
  } else throw new RangeError('a report needs a run history, a comparison or both');
  return { title, generatedAt: options.generatedAt.toISOString(), history, comparison };
}
