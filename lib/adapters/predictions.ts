/**
 * Reading `predictions` as Vertex AI and most SageMaker containers return them: one entry per row, either the
 * probabilities in label order (`[0.1, 0.9]`) or an object holding them (`{"probabilities": […]}`, or
 * `{"scores": […], "classes": […]}` as Vertex AutoML classifiers answer, reordered here to the model's labels).
 */
import { show } from '../errors.js';
import { badResponse } from './v2-outputs.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function numbers(value: unknown, row: number, k: number): number[] {
  if (!Array.isArray(value) || value.length !== k || !value.every((v) => typeof v === 'number'))
    badResponse(`Prediction ${row} is not ${k} numbers: ${show(value).slice(0, 200)}`);
  return value;
}

function rowValues(entry: unknown, row: number, labels: readonly string[]): number[] {
  const k = labels.length;
  if (!isObject(entry)) return numbers(entry, row, k);
  const scores = numbers(entry.probabilities ?? entry.scores, row, k);
  const classes = entry.classes;
  if (!Array.isArray(classes)) return scores;
  return labels.map((label) => {
    const at = classes.indexOf(label);
    if (at < 0) badResponse(`Prediction ${row} lists classes ${JSON.stringify(classes)}, without "${label}"`);
    return scores[at] as number;
  });
}

/** `rows × labels` probabilities from a `predictions` list. */
export function readPredictions(predictions: unknown, rows: number, labels: readonly string[]): Float32Array {
  if (!Array.isArray(predictions)) return badResponse('Model server response has no `predictions` array');
  if (predictions.length !== rows)
    badResponse(`Model server returned ${predictions.length} predictions for ${rows} instances`);
  const out = new Float32Array(rows * labels.length);
  predictions.forEach((entry, i) => out.set(rowValues(entry, i, labels), i * labels.length));
  return out;
}
