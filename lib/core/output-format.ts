/**
 * Output records of scored rows (DESIGN.md): the input columns (all, or the kept ones in their given order),
 * then `prediction` (the most probable label), then `probability_<label>` per class in the model's label order.
 * Shared by the Postprocessor stream and the resumable writer, so both write the same bytes.
 *
 * `csv()` writes a batch straight to CSV text, byte for byte what csv-stringify's defaults make of `records()`
 * (RFC 4180 quoting, `\n` after every record), without an array per row or a stream chunk per record: on the
 * profile of a `local` run, formatting rows through csv-stringify cost more than parsing them
 * (benchmarks/README.md, "Profiles").
 */
import { BatchInferError, ErrorCodes } from '../errors.js';
import { argmaxRow } from './metrics.js';
import type { ScoredBatch } from '../types.js';

/** 10^0 … 10^55 as doubles (correctly rounded; exact up to 10^22). */
const POW10 = Array.from({ length: 56 }, (_, i) => Number(`1e${i}`));

/** `String(Number(p.toPrecision(9)))`, the definition; the fast path below must agree with it exactly. */
function formatSlow(p: number): string {
  return String(Number(p.toPrecision(9)));
}

/**
 * A float32 probability as text: 9 significant digits round-trip any float32, and dropping trailing zeros
 * keeps the file small. Equal to `String(Number(p.toPrecision(9)))` for every number (checked against it for
 * every positive float32 below 1 by benchmarks/check-format.ts); two to five times faster for probabilities.
 *
 * The fast path scales p by 10^n into [1e8, 1e9): two roundings (10^n, the product) put the result within
 * 3e-7 of the exact p · 10^n, so rounding it to an integer agrees with toPrecision's exact decimal rounding
 * (ties away from zero) unless it lies within 1e-6 of a tie or of the interval's ends, which go the slow way.
 * A decimal of at most 9 significant digits is the shortest text of the double nearest to it (doubles tell
 * 15-digit decimals apart), so its digits without trailing zeros are what `String(Number(…))` prints, in its
 * format: plain from 1e-6 up, exponential below.
 */
export function formatProbability(p: number): string {
  if (!(p > 0 && p < 1) || Math.fround(p) !== p) return formatSlow(p);
  // p · 10^n in [1e8, 1e9), give or take the one step log10's rounding may miss by.
  let n = 8 - Math.floor(Math.log10(p));
  let x = p * (POW10[n] as number);
  if (x < 1e8) x = p * (POW10[++n] as number);
  else if (x >= 1e9) x = p * (POW10[--n] as number);
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (Math.abs(fraction - 0.5) < 1e-6 || x < 1e8 + 1e-6 || x > 1e9 - 1e-6) return formatSlow(p);
  // m has 9 digits, or is 10^9 when p rounds up to the next power of ten.
  let m = fraction > 0.5 ? floor + 1 : floor;
  // p = d.ddd × 10^exponent
  let exponent = 8 - n;
  if (m === 1e9) {
    m = 1;
    exponent++;
  } else {
    while (m % 10 === 0) m /= 10;
  }
  const digits = String(m);
  if (exponent >= -6) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  const mantissa = digits.length === 1 ? digits : `${digits[0] as string}.${digits.slice(1)}`;
  return `${mantissa}e${exponent}`;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field as csv-stringify writes it by default: quoted when it holds `"`, `,`, CR or LF; `"` doubled. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export class OutputFormat {
  readonly #labels: readonly string[];
  /** The labels as CSV fields, quoted once here rather than per row. */
  readonly #labelFields: readonly string[];
  readonly #keepColumns: readonly string[] | undefined;
  /** Positions of the kept columns in a row (undefined: keep all), set by `header`. */
  #keep: number[] | undefined;

  constructor(labels: readonly string[], keepColumns?: readonly string[]) {
    this.#labels = labels;
    this.#labelFields = labels.map(csvField);
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

  /** The header as one CSV line (with its `\n`); like `header`, it must come before any batch. */
  headerCsv(columns: readonly string[]): string {
    return `${this.header(columns).map(csvField).join(',')}\n`;
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

  /** The batch's rows as CSV text: the same bytes csv-stringify writes for `records(batch)`. */
  csv(batch: ScoredBatch): string {
    const k = this.#labels.length;
    const keep = this.#keep;
    const labels = this.#labelFields;
    const { probabilities, rows } = batch;
    let out = '';
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as ScoredBatch['rows'][number];
      // A row's own text is its values written as CSV already (PreparedRow.text): passed through as it is.
      if (keep === undefined && row.text !== undefined) out += `${row.text},`;
      else if (keep === undefined) for (const value of row.values) out += `${csvField(value)},`;
      else for (const j of keep) out += `${csvField(row.values[j] ?? '')},`;
      out += labels[argmaxRow(probabilities, i, k)] as string;
      for (let j = 0; j < k; j++) out += `,${formatProbability(probabilities[i * k + j] as number)}`;
      out += '\n';
    }
    return out;
  }
}
