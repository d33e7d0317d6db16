/**
 * A run record as the batch metrics of research §8.1: gauges of the last run (per-run totals are gauges, not
 * counters, as they restart every run) and the client-side request latency histogram, in a fresh registry
 * per run so nothing of the process or an earlier run leaks in. Written as `metrics.prom` (atomic rename,
 * for node_exporter's textfile collector and `promtool check metrics`) and optionally pushed.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { RunRecord } from './run-record.js';
import { STAGES, type RequestSample } from './run-stats.js';

/** The model server's request buckets plus 30 s and 60 s, where client timeouts land. */
export const REQUEST_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60,
];

/** The Pushgateway job; the grouping key adds only `pipeline` (never a run id: groups live forever). */
export const PUSH_JOB = 'batch_inference';

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function batchRegistry(run: RunRecord, requests: readonly RequestSample[]): Registry {
  const registry = new Registry();
  const finished = Date.parse(run.timings.finished_at) / 1000;
  if (run.status === 'succeeded')
    gauge(
      registry,
      'batch_inference_last_success_timestamp_seconds',
      'Unix time the last successful run finished (absent from a failed run, so a push keeps the earlier one).',
    ).set(finished);
  gauge(
    registry,
    'batch_inference_last_completion_timestamp_seconds',
    'Unix time the last run finished, successful or not.',
  ).set(finished);
  gauge(registry, 'batch_inference_last_run_success', '1 if the last run succeeded, else 0.').set(
    run.status === 'succeeded' ? 1 : 0,
  );
  gauge(registry, 'batch_inference_duration_seconds', 'Wall time of the last run.').set(
    run.timings.duration_ms / 1000,
  );
  const stages = gauge(
    registry,
    'batch_inference_stage_duration_seconds',
    'Time of each stage of the last run (stages overlap: they stream into each other).',
    ['stage'],
  );
  for (const stage of STAGES) stages.set({ stage }, run.timings.stages_ms[stage] / 1000);
  const rows = gauge(registry, 'batch_inference_rows_processed', 'Rows of the last run by outcome.', [
    'outcome',
  ]);
  for (const outcome of ['ok', 'invalid', 'failed'] as const) rows.set({ outcome }, run.rows[outcome]);
  gauge(registry, 'batch_inference_rows_per_second', 'Rows read per second of the last run.').set(
    run.throughput.rows_per_s,
  );
  const latency = new Histogram({
    name: 'batch_inference_request_duration_seconds',
    help: 'Model requests of the last run as the client saw them, one per HTTP attempt.',
    labelNames: ['outcome'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  // Every outcome has its series from the start, so a rate over it never starts from "absent".
  for (const outcome of ['success', 'error', 'timeout']) latency.zero({ outcome });
  for (const r of requests) latency.observe({ outcome: r.outcome }, r.seconds);
  gauge(registry, 'batch_inference_request_retries', 'Retried model requests of the last run.').set(
    run.requests.retries,
  );
  if (run.drift !== null) driftGauges(registry, run);
  return registry;
}

function driftGauges(registry: Registry, run: RunRecord): void {
  const drift = run.drift as NonNullable<RunRecord['drift']>;
  const missing = gauge(
    registry,
    'batch_inference_feature_missing_ratio',
    'Share of the last run’s rows with the feature missing or unparsable.',
    ['feature'],
  );
  const outOfRange = gauge(
    registry,
    'batch_inference_feature_out_of_range_ratio',
    'Share of the last run’s values outside the reference profile’s [min, max].',
    ['feature'],
  );
  const score = gauge(
    registry,
    'batch_inference_feature_drift_score',
    'Drift of each feature against the reference profile, on its quantile bins.',
    ['feature', 'method'],
  );
  for (const f of drift.features) {
    missing.set({ feature: f.feature }, f.missing_ratio);
    outOfRange.set({ feature: f.feature }, f.out_of_range_ratio);
    score.set({ feature: f.feature, method: 'psi' }, f.score);
    score.set({ feature: f.feature, method: 'jensenshannon' }, f.js_distance);
  }
  gauge(registry, 'batch_inference_drifted_features_ratio', 'Share of features that drifted.').set(
    drift.drifted_features_ratio,
  );
  gauge(
    registry,
    'batch_inference_prediction_drift_score',
    'Drift of the predicted label distribution against the reference.',
    ['method'],
  ).set({ method: 'psi' }, drift.prediction.score);
}

export async function writeMetricsFile(path: string, registry: Registry): Promise<void> {
  // A run that failed before creating its output directory still records its failure.
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await registry.metrics());
}

/**
 * POSTs (pushAdd) to the Pushgateway: metrics a failed run does not set, the last-success timestamp above all,
 * keep their earlier pushed values.
 */
export async function pushMetrics(url: string, pipeline: string, registry: Registry): Promise<void> {
  await new Pushgateway(url, { timeout: 10_000 }, registry).pushAdd({
    jobName: PUSH_JOB,
    groupings: { pipeline },
  });
}
