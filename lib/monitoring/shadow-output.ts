/**
 * The output records of a champion/challenger run: the champion's columns exactly as a plain run writes them
 * (lib/core/output-format.ts: input columns, `prediction`, `probability_<label>`), then the challenger's
 * `challenger_prediction` and `challenger_probability_<label>`, as CSV bytes (one chunk per batch, written
 * by OutputFormat.csv). It stands in for the Postprocessor when the run has a challenger; the header comes first,
 * once the input's columns are known.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { OutputFormat } from '../core/output-format.js';
import { pushChunks } from '../streams/push-chunks.js';
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
  readonly #inputColumns: () => readonly string[] | undefined;
  readonly #format: OutputFormat;
  readonly #challengerColumns: readonly string[];
  #headerWritten = false;

  constructor(options: ShadowPostprocessorOptions) {
    // One CSV chunk per batch, as the Postprocessor's `output: 'csv'`.
    super({ objectMode: true, readableHighWaterMark: 4, writableHighWaterMark: 1 });
    this.#inputColumns = options.inputColumns;
    this.#format = new OutputFormat(options.labels, options.keepColumns);
    this.#challengerColumns = [
      `${CHALLENGER_PREFIX}prediction`,
      ...options.labels.map((l) => `${CHALLENGER_PREFIX}probability_${l}`),
    ];
  }

  /** The header line once the input's columns are known, if not written yet; throws when a kept column is missing. */
  #headerLines(): Buffer[] {
    const columns = this.#inputColumns();
    if (this.#headerWritten || columns === undefined) return [];
    this.#headerWritten = true;
    return [Buffer.from(this.#format.headerCsv(columns, this.#challengerColumns))];
  }

  override _transform(
    batch: ShadowScoredBatch,
    _encoding: BufferEncoding,
    callback: TransformCallback,
  ): void {
    pushChunks(this, () => [...this.#headerLines(), this.#format.csv(batch, batch.challenger)], callback);
  }

  override _flush(callback: TransformCallback): void {
    pushChunks(this, () => this.#headerLines(), callback);
  }
}
