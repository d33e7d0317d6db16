/**
 * Postprocessor: scored batches → output records: every input column unchanged, then `prediction` (the
 * most probable label), then `probability_<label>` per class in the model's label order (DESIGN.md).
 * The header record comes first, once the input's columns are known.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { argmaxRow } from '../core/metrics.js';
import { refuseUnknownKeys, signalOption } from '../core/options.js';
import type { ScoredBatch } from '../types.js';

export interface PostprocessorOptions {
  /** The model's labels, in output order. Required. */
  labels: readonly string[];
  /** Returns the input's column names (the Preprocessor's `columns`), or undefined while unknown. Required. */
  inputColumns: () => readonly string[] | undefined;
  /** Aborting the signal destroys the stream with an AbortError. */
  signal?: AbortSignal;
}

/**
 * A float32 probability as text: 9 significant digits round-trip any float32, and dropping trailing zeros
 * keeps the file small.
 */
export function formatProbability(p: number): string {
  return String(Number(p.toPrecision(9)));
}

export class Postprocessor extends Transform {
  readonly #labels: readonly string[];
  readonly #inputColumns: () => readonly string[] | undefined;
  #headerWritten = false;

  constructor(options: PostprocessorOptions) {
    refuseUnknownKeys('Postprocessor', options, ['labels', 'inputColumns', 'signal']);
    const signal = signalOption('signal', options.signal);
    super({
      objectMode: true,
      readableHighWaterMark: 1024,
      writableHighWaterMark: 1,
      ...(signal ? { signal } : {}),
    });
    this.#labels = options.labels;
    this.#inputColumns = options.inputColumns;
  }

  /** The output header for the given input columns. */
  static header(inputColumns: readonly string[], labels: readonly string[]): string[] {
    return [...inputColumns, 'prediction', ...labels.map((l) => `probability_${l}`)];
  }

  #writeHeader(): void {
    const columns = this.#inputColumns();
    if (this.#headerWritten || columns === undefined) return;
    this.#headerWritten = true;
    this.push(Postprocessor.header(columns, this.#labels));
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#writeHeader();
    const k = this.#labels.length;
    const { probabilities } = batch;
    batch.rows.forEach((row, i) => {
      const record = [...row.values, this.#labels[argmaxRow(probabilities, i, k)] as string];
      for (let j = 0; j < k; j++) record.push(formatProbability(probabilities[i * k + j] as number));
      this.push(record);
    });
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#writeHeader();
    callback();
  }
}
