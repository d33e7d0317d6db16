/**
 * Postprocessor: scored batches → output records (lib/core/output-format.ts): the input columns unchanged, then
 * the output columns — for a classifier `prediction`, then `probability_<label>` per class in the model's label
 * order, for other outputs a column per element (DESIGN.md). The header record comes first, once the input's
 * columns are known.
 *
 * With `output: 'csv'` it writes the CSV itself, one Buffer per batch, instead of one array per row for
 * csv-stringify: the same bytes, without a stream chunk and an array per row (benchmarks/README.md, "Profiles").
 */
import { Transform, type TransformCallback } from 'node:stream';
import { OutputFormat } from '../core/output-format.js';
import { choiceOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import type { OutputPlan } from '../core/output-plan.js';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { ScoredBatch } from '../types.js';
import { pushChunks } from './push-chunks.js';

export { formatProbability } from '../core/output-format.js';

export interface PostprocessorOptions {
  /**
   * A classifier's labels, in output order, when its only output is `probabilities`; give `plan` otherwise.
   * @example ["drizzle", "fog", "rain", "snow", "sun"]
   */
  labels?: readonly string[];
  /**
   * Which outputs become which columns: `planOutputs(contract)` (lib/core/output-plan.ts). One of `labels` and
   * `plan` is required.
   */
  plan?: OutputPlan;
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
   * sink; or `csv`, the CSV itself, one UTF-8 `Buffer` per batch (the header line its own chunk, first), byte for
   * byte what csv-stringify's defaults write for the records, ready for a file or stdout.
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
      'plan',
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
    const plan = options.plan ?? options.labels;
    if (plan === undefined)
      throw new BatchInferError(ErrorCodes.INVALID_OPTION, 'Postprocessor needs `labels` or `plan`', {
        context: { option: 'plan' },
      });
    this.#format = new OutputFormat(plan, options.keepColumns);
    this.#csv = csv;
  }

  /** The output header for the given input columns. */
  static header(inputColumns: readonly string[], plan: OutputPlan | readonly string[]): string[] {
    return new OutputFormat(plan).header(inputColumns);
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

  /** The header line, if it is due now; throws when a kept column is missing. */
  #headerLines(): Buffer[] {
    const columns = this.#headerColumns();
    return columns === undefined ? [] : [Buffer.from(this.#format.headerCsv(columns))];
  }

  override _transform(batch: ScoredBatch, _encoding: BufferEncoding, callback: TransformCallback): void {
    pushChunks(
      this,
      () =>
        this.#csv
          ? [...this.#headerLines(), this.#format.csv(batch)]
          : [...this.#headerRecords(), ...this.#format.records(batch)],
      callback,
    );
  }

  override _flush(callback: TransformCallback): void {
    pushChunks(this, () => (this.#csv ? this.#headerLines() : this.#headerRecords()), callback);
  }
}
