/**
 * The end of every run, successful or not: its record judged by the offline rules against the history, the
 * history line appended, metrics.prom written and, if asked, pushed.
 */
import { evaluateRules, type Alert } from '../core/trends.js';
import { batchRegistry, pushMetrics, writeMetricsFile } from './batch-metrics.js';
import { appendHistory, readHistory } from './history.js';
import { runRecord, type RunOutcome, type RunRecord } from './run-record.js';
import type { RunStats } from './run-stats.js';

export interface MonitoringTargets {
  readonly metricsFile: string | undefined;
  readonly pushgateway: string | undefined;
  readonly history: string | undefined;
  readonly onAlert: ((alert: Alert) => void) | undefined;
  readonly onPushError: ((error: unknown) => void) | undefined;
}

export async function finishRun(
  stats: RunStats,
  run: RunOutcome,
  targets: MonitoringTargets,
): Promise<RunRecord> {
  const record = runRecord(stats, run);
  const history = targets.history === undefined ? [] : await readHistory(targets.history, run.pipeline);
  record.alerts = evaluateRules(record, history);
  for (const alert of record.alerts) targets.onAlert?.(alert);
  if (targets.history !== undefined) await appendHistory(targets.history, record);
  const registry = batchRegistry(record, stats.requests);
  if (targets.metricsFile !== undefined) await writeMetricsFile(targets.metricsFile, registry);
  // The Pushgateway is a convenience on top of the file: its being down must not fail a run that scored.
  if (targets.pushgateway !== undefined)
    await pushMetrics(targets.pushgateway, run.pipeline, registry).catch((err: unknown) =>
      targets.onPushError?.(err),
    );
  return record;
}
