/**
 * Postprocessor: scored batches → output records (lib/core/output-format.ts): the input columns unchanged, then
 * `prediction`, then `probability_<label>` per class in the model's label order (DESIGN.md). The header record
 * comes first, once the input's columns are known.
 *
 * With `output: 'csv'` it writes the CSV text itself, one string per batch, instead of one array per row for
 * csv-stringify: the same bytes, without a stream chunk and an array per row (benchmarks/README.md, "Profiles").
 */
import { Transform, type TransformCallback } from 'node:stream';
import { OutputFormat } from '../core/output-format.js';
import { choiceOption, refuseUnknownKeys, signalOption } from '../core/options.js';
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
  /**
   * What the stream emits: `records`, one `string[]` per row (the header first), for csv-stringify or your own
   * sink; or `csv`, the CSV text itself, one string per batch (header line first), byte for byte what
   * csv-stringify's defaults write for the records, ready for a file or stdout.
   * @default "records"
   * @example "csv"
   */
  output?: 'records' | 'csv';
  /** Aborting the signal destroys the stream with an AbortError. */
  signal?: AbortSignal;
}

export class Postprocessor extends Transform {
  readonly #inputColumns: () => readonly string[] | undefined;
  readonly #format: OutputFormat;
  readonly #csv: boolean;
  #headerWritten = false;

  constructor(options: PostprocessorOptions) {
    refuseUnknownKeys('Postprocessor', options, [
      'labels',
      'inputColumns',
      'keepColumns',
      'output',
      'signal',
    ]);
    const signal = signalOption('signal', options.signal);
    const csv = choiceOption('output', options.output, ['records', 'csv'], 'records') === 'csv';
    super({
      objectMode: true,
      // A CSV chunk is a whole batch, a record one row: either way about four batches wait at most.
      readableHighWaterMark: csv ? 4 : 1024,
      writableHighWaterMark: 1,
      ...(signal ? { signal } : {}),
    });
    this.#inputColumns = options.inputColumns;
    this.#format = new OutputFormat(options.labels, options.keepColumns);
    this.#csv = csv;
  }

  /** The output header for the given input columns. */
  static header(inputColumns: readonly string[], labels: readonly string[]): string[] {
    return new OutputFormat(labels).header(inputColumns);
  }

  /** The input's columns the first time they are known, so that the header is written once; else undefined. */
  #headerColumns(): readonly string[] | undefined {
    const columns = this.#inputColumns();
    if (this.#headerWritten || columns === undefined) return undefined;
    this.#headerWritten = true;
    return columns;
  }

  /** The header record, if it is due now; throws when a kept column is missing. */
  #headerRecords(): string[][] {
    const columns = this.#headerColumns();
    return columns === undefined ? [] : [this.#format.header(columns)];
  }

  /** The header line, if it is due now, else ''; throws when a kept column is missing. */
  #headerCsv(): string {
    const columns = this.#headerColumns();
    return columns === undefined ? '' : this.#format.headerCsv(columns);
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    let out: string | string[][];
    try {
      out = this.#csv
        ? this.#headerCsv() + this.#format.csv(batch)
        : [...this.#headerRecords(), ...this.#format.records(batch)];
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (typeof out === 'string') {
      callback(null, out === '' ? undefined : out);
      return;
    }
    for (const record of out) this.push(record);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    let header: string | string[] | undefined;
    try {
      header = this.#csv ? this.#headerCsv() : this.#headerRecords()[0];
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback(null, header === '' ? undefined : header);
  }
}
