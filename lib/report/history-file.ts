/**
 * The run history read for a report. Unlike the run's own reader (lib/monitoring/history.ts), which skips what
 * it cannot parse so a torn line never stops a job, the report refuses a history it cannot trust and names the
 * line at fault: a report drawn from half the runs would mislead without saying so.
 */
import { readFile } from 'node:fs/promises';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { RunRecord } from '../monitoring/run-record.js';
import {
  boolean,
  listOf,
  mapOf,
  nullable,
  number,
  object,
  oneOf,
  optional,
  string,
  type Spec,
} from './shape.js';

const level = oneOf('ok', 'warn', 'drift');

/** The fields of RunRecord the report reads (run-record.ts); other fields may come and go. */
const RUN_RECORD: Spec = object({
  status: oneOf('succeeded', 'failed'),
  error: optional(object({ code: nullable(string), message: string })),
  pipeline: string,
  model: object({ name: string, version: nullable(number) }),
  inputs: listOf(string),
  rows: object({ read: number, ok: number, invalid: number, failed: number }),
  timings: object({
    started_at: string,
    duration_ms: number,
    stages_ms: object({ read: number, preprocess: number, infer: number, write: number }),
  }),
  throughput: object({ rows_per_s: number }),
  requests: object({
    count: number,
    p50_ms: nullable(number),
    p95_ms: nullable(number),
    p99_ms: nullable(number),
    retries: number,
    by_outcome: object({ success: number, error: number, timeout: number }),
  }),
  drift: nullable(
    object({
      rows: number,
      low_sample: boolean,
      dataset_drift: boolean,
      drifted_features_ratio: number,
      features: listOf(
        object({
          feature: string,
          method: string,
          score: number,
          threshold: number,
          level,
          js_distance: number,
          js_threshold: number,
          missing_ratio: number,
          out_of_range_ratio: number,
          current: listOf(number),
          reference: listOf(number),
        }),
      ),
      prediction: object({
        method: string,
        score: number,
        threshold: number,
        level,
        current: mapOf(number),
        reference: mapOf(number),
      }),
    }),
  ),
  alerts: listOf(
    object({
      alert: string,
      severity: oneOf('page', 'ticket', 'warning'),
      value: number,
      threshold: number,
      message: string,
      feature: optional(string),
    }),
  ),
});

/** What is wrong with `value` as a run record, or undefined when the report can use it. */
export function runRecordProblem(value: unknown): string | undefined {
  return RUN_RECORD(value, '');
}

function refuse(path: string, message: string, line?: number): BatchInferError {
  return new BatchInferError(ErrorCodes.INPUT_FORMAT, message, {
    context: line === undefined ? { file: path } : { file: path, line },
  });
}

/**
 * Every run in the history file, oldest first, all pipelines. A missing or empty file, or any line that is
 * not a run record, is refused with the file and line named (CLI exit 65). Blank lines are allowed.
 */
export async function readRunHistory(path: string): Promise<RunRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT')
      throw refuse(
        path,
        `no run history at ${path}: give --history the file that \`batch-infer run --history\` appends to`,
      );
    throw err;
  }
  const records: RunRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw refuse(path, `${path}:${i + 1}: not JSON (${(err as Error).message})`, i + 1);
    }
    const problem = runRecordProblem(value);
    if (problem !== undefined) throw refuse(path, `${path}:${i + 1}: not a run record: ${problem}`, i + 1);
    records.push(value as RunRecord);
  });
  if (records.length === 0)
    throw refuse(path, `${path} holds no runs: run \`batch-infer run --history ${path}\` first`);
  return records;
}
