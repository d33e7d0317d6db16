/**
 * The run record: one run as data (research §8.4). It is the line appended to the `history` file, the source of
 * metrics.prom, and what the offline rules (lib/core/trends.ts) judge, so the three never disagree.
 */
import type { DriftReport } from '../core/drift.js';
import type { Alert } from '../core/trends.js';
import type { LatencySummary, RunStats, Stage } from './run-stats.js';

export interface QualityReport {
  features: { feature: string; missing_ratio: number; out_of_range_ratio: number }[];
}

export interface RunRecord {
  status: 'succeeded' | 'failed';
  /** The failure's BatchInferError code (null for any other error) and message. */
  error?: { code: string | null; message: string };
  /** The Pushgateway grouping key's `pipeline`. */
  pipeline: string;
  /** The run's W3C trace id: the model server's log lines of the run's requests carry it (absent in older records). */
  trace_id?: string;
  model: { name: string; version: number | null };
  inputs: string[];
  /** Rows by outcome: `ok` scored, `invalid` rejected, `failed` read but neither (a failed run's lost rows). */
  rows: { read: number; ok: number; invalid: number; failed: number };
  timings: {
    started_at: string;
    finished_at: string;
    duration_ms: number;
    stages_ms: Record<Stage, number>;
  };
  throughput: { rows_per_s: number };
  requests: LatencySummary & { retries: number; by_outcome: Record<'success' | 'error' | 'timeout', number> };
  /** null when the model's contract has no reference profile. */
  drift: DriftReport | null;
  quality: QualityReport | null;
  alerts: Alert[];
}

export function qualityOf(drift: DriftReport): QualityReport {
  return {
    features: drift.features.map(({ feature, missing_ratio, out_of_range_ratio }) => ({
      feature,
      missing_ratio,
      out_of_range_ratio,
    })),
  };
}

export interface RunOutcome {
  pipeline: string;
  trace_id?: string;
  model: { name: string; version: number | null };
  inputs: string[];
  counts: { read: number; scored: number; rejected: number };
  error?: { code: string | null; message: string };
}

export function runRecord(stats: RunStats, run: RunOutcome): RunRecord {
  const seconds = stats.elapsed();
  const { read, scored, rejected } = run.counts;
  // A run that read no rows has no distribution to compare: no drift report rather than PSIs of nothing.
  const report = stats.drift?.report();
  const drift = report === undefined || report.rows === 0 ? null : report;
  const byOutcome = { success: 0, error: 0, timeout: 0 };
  for (const r of stats.requests) byOutcome[r.outcome]++;
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    status: run.error === undefined ? 'succeeded' : 'failed',
    ...(run.error === undefined ? {} : { error: run.error }),
    pipeline: run.pipeline,
    ...(run.trace_id === undefined ? {} : { trace_id: run.trace_id }),
    model: run.model,
    inputs: run.inputs,
    rows: { read, ok: scored, invalid: rejected, failed: Math.max(0, read - scored - rejected) },
    timings: {
      started_at: stats.startedAt.toISOString(),
      finished_at: new Date(stats.startedAt.getTime() + seconds * 1000).toISOString(),
      duration_ms: ms(seconds),
      stages_ms: {
        read: ms(stats.stages.read),
        preprocess: ms(stats.stages.preprocess),
        infer: ms(stats.stages.infer),
        write: ms(stats.stages.write),
      },
    },
    throughput: { rows_per_s: seconds > 0 ? Math.round(read / seconds) : 0 },
    requests: { ...stats.latency(), retries: stats.retries, by_outcome: byOutcome },
    drift,
    quality: drift === null ? null : qualityOf(drift),
    alerts: [],
  };
}
