/**
 * Scores a scored CSV (the pipeline's output) against its true labels: reads the target column, `prediction`
 * and the `probability_<label>` columns, streaming, and returns the classification report.
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { BatchInferError, ErrorCodes, show } from './errors.js';
import { classificationReport, type ClassificationReport } from './core/metrics.js';

export async function evaluateScoredCsv(
  path: string,
  labels: readonly string[],
  target: string,
): Promise<ClassificationReport> {
  const truth: number[] = [];
  const predicted: number[] = [];
  const probabilities: number[] = [];
  const parser = createReadStream(path).pipe(parse({ columns: true, bom: true, skip_empty_lines: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    const t = labels.indexOf(row[target] ?? '');
    const p = labels.indexOf(row.prediction ?? '');
    if (p === -1 || !(target in row)) {
      throw new BatchInferError(
        ErrorCodes.BAD_RECORD,
        `${show(path)} lacks a valid ${show(target)} or prediction column`,
      );
    }
    // A row whose true label is not one of the model's labels cannot be judged; the report counts only the rest.
    if (t === -1) continue;
    truth.push(t);
    predicted.push(p);
    for (const label of labels) probabilities.push(Number(row[`probability_${label}`]));
  }
  return classificationReport(labels, truth, predicted, probabilities);
}
