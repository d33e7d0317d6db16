/**
 * Output records of scored rows (DESIGN.md): the input columns (all, or the kept ones in their given order),
 * then the output columns of the run's output plan (lib/core/output-plan.ts): for a classifier `prediction` and
 * `probability_<label>` per class in the model's label order, then a column per element of every other output.
 * Shared by the Postprocessor stream and the resumable writer, so both write the same bytes.
 *
 * `csv()` writes a batch straight to CSV bytes, byte for byte what csv-stringify's defaults make of `records()`
 * (RFC 4180 quoting, `\n` after every record, UTF-8), without an array per row, a stream chunk per record or a
 * string per probability: on the profile of a `local` run, formatting rows through csv-stringify cost more than
 * parsing them, and building the batch's text as a string after that cost about as much as reading it
 * (benchmarks/README.md, "Profiles").
 */
import { cellText } from './cell-text.js';
import { argmaxRow } from './metrics.js';
import { classifierPlan, type OutputPlan } from './output-plan.js';
import { elementText, keptPositions, outputTensor, probabilitiesOf } from './output-values.js';
import { formatProbability, MAX_PROBABILITY_BYTES, writeProbability } from './probability-text.js';
import { ScratchBuffer } from './scratch-buffer.js';
import type { Tensor } from './tensor.js';
import type { ScoredBatch } from '../types.js';

function isPlan(plan: OutputPlan | readonly string[]): plan is OutputPlan {
  return !Array.isArray(plan);
}

export { formatProbability } from './probability-text.js';

const COMMA = 0x2c;
const LF = 0x0a;

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field as csv-stringify writes it by default: quoted when it holds `"`, `,`, CR or LF; `"` doubled. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Longest text of a number element (a float32's {@link writeProbability} text, a 64-bit integer's digits). */
const MAX_NUMBER_BYTES = MAX_PROBABILITY_BYTES;

export class OutputFormat {
  readonly #plan: OutputPlan;
  readonly #labels: readonly string[];
  /** The labels as CSV fields in UTF-8, quoted once here rather than per row. */
  readonly #labelBytes: readonly Buffer[];
  /** Bytes of the longest of them. */
  readonly #longestLabel: number;
  /** Where `csv` writes a batch before copying it out, kept (and grown) from batch to batch. */
  readonly #scratch = new ScratchBuffer();
  readonly #keepColumns: readonly string[] | undefined;
  /** Positions of the kept columns in a row (undefined: keep all), set by `header`. */
  #keep: number[] | undefined;

  /** `plan` may be a classifier's labels: its only output, `probabilities`, holds their probabilities. */
  constructor(plan: OutputPlan | readonly string[], keepColumns?: readonly string[]) {
    this.#plan = isPlan(plan) ? plan : classifierPlan(plan);
    const labels = this.#plan.classifier?.labels ?? [];
    this.#labels = labels;
    this.#labelBytes = labels.map((label) => Buffer.from(csvField(label)));
    this.#longestLabel = Math.max(0, ...this.#labelBytes.map((b) => b.length));
    this.#keepColumns = keepColumns;
  }

  /** The output header for the input's columns; a kept column the input lacks is BI_ERR_MISSING_COLUMN. */
  header(columns: readonly string[]): string[] {
    const keep = this.#keepColumns;
    if (keep !== undefined) this.#keep = keptPositions(keep, columns);
    return [...(keep ?? columns), ...this.#plan.columns];
  }

  /**
   * The header as one CSV line (with its `\n`), `extra` columns after it; like `header`, it must come before any
   * batch.
   */
  headerCsv(columns: readonly string[], extra: readonly string[] = []): string {
    return `${[...this.header(columns), ...extra].map(csvField).join(',')}\n`;
  }

  records(batch: ScoredBatch): string[][] {
    const k = this.#labels.length;
    const keep = this.#keep;
    const probabilities = probabilitiesOf(batch, this.#plan.classifier?.probabilities);
    const classifier = this.#plan.classifier;
    const label = this.#labelTensor(batch);
    const plain = this.#plainTensors(batch);
    return batch.rows.map((row, i) => {
      const record = keep === undefined ? row.values.map(cellText) : keep.map((j) => cellText(row.values[j]));
      if (classifier !== undefined) {
        record.push(
          label === undefined
            ? (this.#labels[argmaxRow(probabilities, i, k)] as string)
            : elementText(label, i),
        );
        for (let j = 0; j < k; j++) record.push(formatProbability(probabilities[i * k + j] as number));
      }
      for (const { tensor, width } of plain)
        for (let j = 0; j < width; j++) record.push(elementText(tensor, i * width + j));
      return record;
    });
  }

  /** The label output of a classifier that has one. */
  #labelTensor(batch: ScoredBatch): Tensor | undefined {
    const name = this.#plan.classifier?.label;
    return name === undefined ? undefined : outputTensor(batch, name);
  }

  /** The plain outputs with their columns per row. */
  #plainTensors(batch: ScoredBatch): { tensor: Tensor; width: number }[] {
    return this.#plan.plain.map((p) => ({ tensor: outputTensor(batch, p.name), width: p.columns.length }));
  }

  /**
   * The batch's rows as CSV (UTF-8): the same bytes csv-stringify writes for `records(batch)`. With `challenger`
   * (rows × labels, a champion/challenger run's), each row then has the challenger's prediction and
   * probabilities too.
   */
  csv(batch: ScoredBatch, challenger?: Float32Array): Buffer {
    const k = this.#labels.length;
    const keep = this.#keep;
    const { rows } = batch;
    const probabilities = probabilitiesOf(batch, this.#plan.classifier?.probabilities);
    const classifier = this.#plan.classifier !== undefined;
    const label = this.#labelTensor(batch);
    const plain = this.#plainTensors(batch);
    // A classifier's columns: a label and k probabilities with their commas (twice with a challenger).
    const tail = classifier
      ? (challenger === undefined ? 1 : 2) * (this.#longestLabel + 1 + k * (MAX_PROBABILITY_BYTES + 1))
      : 0;
    let pos = 0;
    // Every field is written with a comma after it; the row's last comma becomes its line end.
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as ScoredBatch['rows'][number];
      // A row's own text is its values written as CSV already (PreparedRow.text): passed through as it is.
      if (keep === undefined && row.text !== undefined) pos = this.#text(pos, row.text);
      else if (keep === undefined)
        for (const value of row.values) pos = this.#text(pos, csvField(cellText(value)));
      else for (const j of keep) pos = this.#text(pos, csvField(cellText(row.values[j])));
      if (classifier) {
        if (label !== undefined) pos = this.#text(pos, csvField(elementText(label, i))) - 1;
        const out = this.#scratch.reserve(pos, tail);
        pos = this.#prediction(out, pos, probabilities, i, label === undefined);
        if (challenger !== undefined) {
          out[pos++] = COMMA;
          pos = this.#prediction(out, pos, challenger, i, true);
        }
        out[pos++] = COMMA;
      }
      for (const { tensor, width } of plain) pos = this.#elements(pos, tensor, i, width);
      this.#scratch.reserve(pos, 0)[pos - 1] = LF;
    }
    return this.#scratch.copy(pos);
  }

  /** Writes row i's `width` elements of a plain output, each with a comma after it. */
  #elements(pos: number, tensor: Tensor, i: number, width: number): number {
    const { data } = tensor;
    for (let j = i * width; j < (i + 1) * width; j++) {
      if (data instanceof Float32Array) {
        const out = this.#scratch.reserve(pos, MAX_NUMBER_BYTES + 1);
        pos = writeProbability(out, pos, data[j] as number);
        out[pos++] = COMMA;
      } else
        pos = this.#text(pos, Array.isArray(data) ? csvField(data[j] as string) : elementText(tensor, j));
    }
    return pos;
  }

  /**
   * Writes row i's predicted label (when `withLabel`: the most probable one) and its k probabilities at `pos`,
   * each probability after a comma; returns the position after them.
   */
  #prediction(out: Buffer, pos: number, probabilities: Float32Array, i: number, withLabel: boolean): number {
    const k = this.#labels.length;
    if (withLabel) {
      const label = this.#labelBytes[argmaxRow(probabilities, i, k)] as Buffer;
      out.set(label, pos);
      pos += label.length;
    }
    for (let j = 0; j < k; j++) {
      out[pos++] = COMMA;
      pos = writeProbability(out, pos, probabilities[i * k + j] as number);
    }
    return pos;
  }

  /** Writes a field's text (or a row's) and its comma at `pos`; returns the position after them. */
  #text(pos: number, text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const out = this.#scratch.reserve(pos, 3 * text.length + 1);
    pos += out.write(text, pos, 'utf8');
    out[pos++] = COMMA;
    return pos;
  }
}
