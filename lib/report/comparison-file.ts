/**
 * A champion/challenger comparison read for a report: the JSON that `batch-infer evaluate --compare-version
 * <n> --json` prints and `batch-infer promote --report-json` writes (`ModelComparison`, lib/core/compare.ts).
 * Like the run history, a file the report cannot trust is refused with what is wrong in it named, never
 * drawn in part: a comparison table missing a set or an interval would mislead without saying so.
 */
import { readFile } from 'node:fs/promises';
import type { ModelComparison } from '../core/compare.js';
import { BatchInferError, ErrorCodes } from '../errors.js';
import { boolean, isObject, listOf, nullable, number, object, string, type Spec } from './shape.js';

const pair: Spec = (v, path) =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')
    ? undefined
    : `${path} is not a pair of numbers`;

const nonEmpty =
  (spec: Spec): Spec =>
  (v, path) =>
    Array.isArray(v) && v.length === 0 ? `${path} is empty` : spec(v, path);

const REPORT: Spec = object({
  rows: number,
  accuracy: number,
  macro_f1: number,
  log_loss: nullable(number),
  per_class: listOf(
    object({ label: string, precision: number, recall: number, f1: number, support: number }),
  ),
  confusion: listOf(listOf(number)),
});

/** The fields of ModelComparison the report reads; other fields may come and go. */
const COMPARISON: Spec = object({
  format: (v, path) => (v === 1 ? undefined : `${path} is ${JSON.stringify(v)}, not 1`),
  model: string,
  champion: object({ version: nullable(number) }),
  challenger: object({ version: nullable(number) }),
  labels: nonEmpty(listOf(string)),
  bootstrap: object({ resamples: number, confidence: number, seed: number }),
  sets: nonEmpty(
    listOf(
      object({
        name: string,
        rows: number,
        champion: REPORT,
        challenger: REPORT,
        deltas: listOf(
          object({
            metric: string,
            champion: number,
            challenger: number,
            delta: number,
            interval: pair,
            beyond_noise: boolean,
            higher_is_better: boolean,
          }),
        ),
        disagreement: object({ rows: number, disagreements: number, rate: number }),
      }),
    ),
  ),
});

/** Per-class figures and confusions must line up with the labels: the tables index them together. */
function misaligned(c: ModelComparison): string | undefined {
  const k = c.labels.length;
  for (const [i, set] of c.sets.entries()) {
    for (const side of ['champion', 'challenger'] as const) {
      const r = set[side];
      const path = `sets[${i}].${side}`;
      if (r.per_class.length !== k) return `${path}.per_class has ${r.per_class.length} classes, not ${k}`;
      if (r.confusion.length !== k || r.confusion.some((row) => row.length !== k))
        return `${path}.confusion is not ${k} × ${k}`;
    }
  }
  return undefined;
}

/** What is wrong with `value` as a model comparison, or undefined when the report can use it. */
export function comparisonProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'it is not a JSON object';
  return COMPARISON(value, '') ?? misaligned(value as unknown as ModelComparison);
}

function refuse(path: string, message: string): BatchInferError {
  return new BatchInferError(ErrorCodes.INPUT_FORMAT, message, { context: { file: path } });
}

/**
 * The comparison in the file at `path`. A missing file, a file that is not JSON or not a comparison is refused
 * with the file named and what is wrong (CLI exit 65).
 */
export async function readComparison(path: string): Promise<ModelComparison> {
  const written = 'the JSON `batch-infer evaluate --compare-version <n> --json` prints';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT')
      throw refuse(path, `no comparison at ${path}: give --comparison ${written}`);
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw refuse(path, `${path}: not JSON (${(err as Error).message}); --comparison reads ${written}`);
  }
  const problem = comparisonProblem(value);
  if (problem !== undefined)
    throw refuse(path, `${path}: not a model comparison: ${problem}; --comparison reads ${written}`);
  return value as ModelComparison;
}
