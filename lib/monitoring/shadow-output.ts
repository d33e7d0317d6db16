/**
 * The output records of a champion/challenger run: the champion's columns exactly as a plain run writes them
 * (lib/core/output-format.ts: input columns, `prediction`, `probability_<label>`), then the challenger's
 * `challenger_prediction` and `challenger_probability_<label>`. It stands in for the Postprocessor when the
 * run has a challenger; the header comes first, once the input's columns are known.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { argmaxRow } from '../core/metrics.js';
import { formatProbability, OutputFormat } from '../core/output-format.js';
import type { ShadowScoredBatch } from './shadow-tap.js';

/** Prefix of the challenger's columns. */
export const CHALLENGER_PREFIX = 'challenger_';

export interface ShadowPostprocessorOptions {
  /** The model's labels, in output order. */
  labels: readonly string[];
  /** Returns the input's column names (the Preprocessor's `columns`), or undefined while unknown. */
  inputColumns: () => readonly string[] | undefined;
  /** Input columns to pass through, in this order. @default every input column */
  keepColumns?: readonly string[];
}

export class ShadowPostprocessor extends Transform {
  readonly #labels: readonly string[];
  readonly #inputColumns: () => readonly string[] | undefined;
  readonly #format: OutputFormat;
  #headerWritten = false;

  constructor(options: ShadowPostprocessorOptions) {
    super({ objectMode: true, readableHighWaterMark: 1024, writableHighWaterMark: 1 });
    this.#labels = options.labels;
    this.#inputColumns = options.inputColumns;
    this.#format = new OutputFormat(options.labels, options.keepColumns);
  }

  /** Pushes the header once the input's columns are known; throws when a kept column is missing. */
  #writeHeader(): void {
    const columns = this.#inputColumns();
    if (this.#headerWritten || columns === undefined) return;
    this.#headerWritten = true;
    this.push([
      ...this.#format.header(columns),
      `${CHALLENGER_PREFIX}prediction`,
      ...this.#labels.map((l) => `${CHALLENGER_PREFIX}probability_${l}`),
    ]);
  }

  override _transform(
    batch: ShadowScoredBatch,
    _encoding: BufferEncoding,
    callback: TransformCallback,
  ): void {
    try {
      this.#writeHeader();
    } catch (err) {
      callback(err as Error);
      return;
    }
    const k = this.#labels.length;
    const { challenger } = batch;
    this.#format.records(batch).forEach((record, i) => {
      record.push(this.#labels[argmaxRow(challenger, i, k)] as string);
      for (let j = 0; j < k; j++) record.push(formatProbability(challenger[i * k + j] as number));
      this.push(record);
    });
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#writeHeader();
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback();
  }
}
