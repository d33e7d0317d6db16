/**
 * Postprocessor: scored batches → output records (lib/core/output-format.ts): the input columns unchanged, then
 * `prediction`, then `probability_<label>` per class in the model's label order (DESIGN.md). The header record
 * comes first, once the input's columns are known.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { OutputFormat } from '../core/output-format.js';
import { refuseUnknownKeys, signalOption } from '../core/options.js';
import type { ScoredBatch } from '../types.js';

export { formatProbability } from '../core/output-format.js';

export interface PostprocessorOptions {
  /** The model's labels, in output order. Required. */
  labels: readonly string[];
  /** Returns the input's column names (the Preprocessor's `columns`), or undefined while unknown. Required. */
  inputColumns: () => readonly string[] | undefined;
  /**
   * Input columns to pass through, in this order; a name the input lacks fails the stream
   * (BI_ERR_MISSING_COLUMN).
   * @default every input column
   * @example ["id"]
   */
  keepColumns?: readonly string[];
  /** Aborting the signal destroys the stream with an AbortError. */
  signal?: AbortSignal;
}

export class Postprocessor extends Transform {
  readonly #inputColumns: () => readonly string[] | undefined;
  readonly #format: OutputFormat;
  #headerWritten = false;

  constructor(options: PostprocessorOptions) {
    refuseUnknownKeys('Postprocessor', options, ['labels', 'inputColumns', 'keepColumns', 'signal']);
    const signal = signalOption('signal', options.signal);
    super({
      objectMode: true,
      readableHighWaterMark: 1024,
      writableHighWaterMark: 1,
      ...(signal ? { signal } : {}),
    });
    this.#inputColumns = options.inputColumns;
    this.#format = new OutputFormat(options.labels, options.keepColumns);
  }

  /** The output header for the given input columns. */
  static header(inputColumns: readonly string[], labels: readonly string[]): string[] {
    return new OutputFormat(labels).header(inputColumns);
  }

  /** Pushes the header once the input's columns are known; throws when a kept column is missing. */
  #writeHeader(): void {
    const columns = this.#inputColumns();
    if (this.#headerWritten || columns === undefined) return;
    this.#headerWritten = true;
    this.push(this.#format.header(columns));
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#writeHeader();
    } catch (err) {
      callback(err as Error);
      return;
    }
    for (const record of this.#format.records(batch)) this.push(record);
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
