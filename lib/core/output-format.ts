/**
 * Output records of scored rows (DESIGN.md): the input columns (all, or the kept ones in their given order),
 * then `prediction` (the most probable label), then `probability_<label>` per class in the model's label order.
 * Shared by the Postprocessor stream and the resumable writer, so both write the same bytes.
 */
import { BatchInferError, ErrorCodes } from '../errors.js';
import { argmaxRow } from './metrics.js';
import type { ScoredBatch } from '../types.js';

/**
 * A float32 probability as text: 9 significant digits round-trip any float32, and dropping trailing zeros
 * keeps the file small.
 */
export function formatProbability(p: number): string {
  return String(Number(p.toPrecision(9)));
}

export class OutputFormat {
  readonly #labels: readonly string[];
  readonly #keepColumns: readonly string[] | undefined;
  /** Positions of the kept columns in a row (undefined: keep all), set by `header`. */
  #keep: number[] | undefined;

  constructor(labels: readonly string[], keepColumns?: readonly string[]) {
    this.#labels = labels;
    this.#keepColumns = keepColumns;
  }

  /** The output header for the input's columns; a kept column the input lacks is BI_ERR_MISSING_COLUMN. */
  header(columns: readonly string[]): string[] {
    const keep = this.#keepColumns;
    if (keep !== undefined) {
      const missing = keep.filter((c) => !columns.includes(c));
      if (missing.length > 0)
        throw new BatchInferError(
          ErrorCodes.MISSING_COLUMN,
          `Cannot keep column(s) the input lacks: ${missing.join(', ')} (input has: ${columns.join(', ')})`,
          { context: { column: missing[0] as string } },
        );
      this.#keep = keep.map((c) => columns.indexOf(c));
    }
    return [...(keep ?? columns), 'prediction', ...this.#labels.map((l) => `probability_${l}`)];
  }

  records(batch: ScoredBatch): string[][] {
    const k = this.#labels.length;
    const keep = this.#keep;
    const { probabilities } = batch;
    return batch.rows.map((row, i) => {
      const passthrough = keep === undefined ? row.values : keep.map((j) => row.values[j] ?? '');
      const record = [...passthrough, this.#labels[argmaxRow(probabilities, i, k)] as string];
      for (let j = 0; j < k; j++) record.push(formatProbability(probabilities[i * k + j] as number));
      return record;
    });
  }
}
