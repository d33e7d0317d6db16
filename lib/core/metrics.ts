/**
 * Classification metrics over label indices: accuracy, per-class precision/recall/F1, macro-F1, log loss and
 * the confusion matrix (rows: true label, columns: predicted label). Used by training, `evaluate` and the demo.
 */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  rows: number;
  accuracy: number;
  /** Mean F1 over the classes present in the truth or the predictions (scikit-learn's `average='macro'`). */
  macro_f1: number;
  log_loss: number | null;
  per_class: ClassMetrics[];
  confusion: number[][];
}

/** One row's log loss: −ln p of the true class, p clipped to [1e-15, 1 − 1e-15] as scikit-learn does. */
export function rowLogLoss(p: number): number {
  return -Math.log(Math.min(1 - 1e-15, Math.max(1e-15, p)));
}

/** Builds the report. `probabilities`, when given, holds rows × labels.length values for log loss. */
export function classificationReport(
  labels: readonly string[],
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  probabilities?: ArrayLike<number>,
): ClassificationReport {
  const k = labels.length;
  const confusion = labels.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] as number;
    const p = predicted[i] as number;
    const row = confusion[t] as number[];
    row[p] = (row[p] ?? 0) + 1;
    if (t === p) correct++;
  }
  const per_class = labels.map((label, c) => {
    const tp = (confusion[c] as number[])[c] ?? 0;
    const support = (confusion[c] as number[]).reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + (row[c] ?? 0), 0);
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  // Macro-F1 over the classes present in the truth or the predictions: scikit-learn's f1_score(average='macro')
  // without labels= averages over unique_labels(y_true, y_pred). A class predicted but never true counts with
  // F1 0 (its false positives are real errors); a class in neither is left out rather than scored 0.
  const present = per_class.filter((m, c) => m.support > 0 || confusion.some((row) => (row[c] ?? 0) > 0));
  const macro_f1 = present.length === 0 ? 0 : present.reduce((a, m) => a + m.f1, 0) / present.length;
  let log_loss: number | null = null;
  if (probabilities !== undefined) {
    let sum = 0;
    for (let i = 0; i < truth.length; i++)
      sum += rowLogLoss(probabilities[i * k + (truth[i] as number)] as number);
    log_loss = truth.length === 0 ? 0 : sum / truth.length;
  }
  return {
    rows: truth.length,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    macro_f1,
    log_loss,
    per_class,
    confusion,
  };
}

/** Index of the largest value in row `row` of a row-major matrix with `width` columns. */
export function argmaxRow(values: ArrayLike<number>, row: number, width: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let j = 0; j < width; j++) {
    const v = values[row * width + j] as number;
    if (v > bestValue) {
      bestValue = v;
      best = j;
    }
  }
  return best;
}
