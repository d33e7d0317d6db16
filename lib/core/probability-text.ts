/**
 * A float32 (a probability, in practice) as text, as a string or as ASCII bytes written into a buffer: 9
 * significant digits round-trip any float32, and dropping trailing zeros keeps the text short. Both are equal to
 * `String(Number(p.toPrecision(9)))` for every number (checked against it for every positive float32 below 1
 * by benchmarks/check-format.ts, and for samples of every magnitude by the unit test); two to five times
 * faster than it.
 */
import { ScratchBuffer } from './scratch-buffer.js';

/** 10^0 … 10^55 as doubles (correctly rounded; exact up to 10^22). */
const POW10 = Array.from({ length: 56 }, (_, i) => Number(`1e${i}`));

const ZERO = 0x30;
const DOT = 0x2e;
const MINUS = 0x2d;
const E = 0x65;

/** `String(Number(p.toPrecision(9)))`, the definition; the fast path below must agree with it exactly. */
function formatSlow(p: number): string {
  return String(Number(p.toPrecision(9)));
}

/** What {@link decompose} found: |p| rounds to `digits` × 10^(exponent − digits' length + 1). */
let digits = 0;
let exponent = 0;

/**
 * The fast path: for a float32 whose magnitude is in [1e-38, 1e8), sets `digits` (its 9 significant digits
 * without the trailing zeros) and `exponent` (|p| = d.ddd × 10^exponent) and returns true; false sends p the
 * slow way (0, non-finite, not a float32, subnormal or huge).
 *
 * It scales |p| by 10^n into [1e8, 1e9): two roundings (10^n, the product) put the result within 3e-7 of the
 * exact |p| · 10^n, so rounding it to an integer agrees with toPrecision's exact decimal rounding (ties away
 * from zero) unless it lies within 1e-6 of a tie or of the interval's ends, which go the slow way. A decimal of
 * at most 9 significant digits is the shortest text of the double nearest to it (doubles tell 15-digit
 * decimals apart), so its digits without trailing zeros are what `String(Number(…))` prints.
 */
function decompose(p: number): boolean {
  const a = Math.abs(p);
  if (!(a >= 1e-38 && a < 1e8) || Math.fround(p) !== p) return false;
  // a · 10^n in [1e8, 1e9), give or take the one step log10's rounding may miss by.
  let n = 8 - Math.floor(Math.log10(a));
  let x = a * (POW10[n] as number);
  if (x < 1e8) x = a * (POW10[++n] as number);
  else if (x >= 1e9) x = a * (POW10[--n] as number);
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (Math.abs(fraction - 0.5) < 1e-6 || x < 1e8 + 1e-6 || x > 1e9 - 1e-6) return false;
  // m has 9 digits, or is 10^9 when a rounds up to the next power of ten.
  let m = fraction > 0.5 ? floor + 1 : floor;
  exponent = 8 - n;
  if (m === 1e9) {
    m = 1;
    exponent++;
  } else {
    while (m % 10 === 0) m /= 10;
  }
  digits = m;
  return true;
}

/**
 * The float32's text as `String(Number(…))` prints it: exponential below 1e-6, else plain (the fast path stops
 * short of 1e21, where exponential starts again).
 */
export function formatProbability(p: number): string {
  if (!decompose(p)) return formatSlow(p);
  const sign = p < 0 ? '-' : '';
  const text = String(digits);
  // Digits before the point.
  const point = exponent + 1;
  if (point <= 0) {
    if (exponent >= -6) return `${sign}0.${'0'.repeat(-point)}${text}`;
    const mantissa = text.length === 1 ? text : `${text[0] as string}.${text.slice(1)}`;
    return `${sign}${mantissa}e${exponent}`;
  }
  if (point >= text.length) return `${sign}${text}${'0'.repeat(point - text.length)}`;
  return `${sign}${text.slice(0, point)}.${text.slice(point)}`;
}

/** Longest text {@link writeProbability} writes for any number (`-1.23456789e-100`, `-0.00000123456789`). */
export const MAX_PROBABILITY_BYTES = 24;

/** Number of decimal digits of a positive integer below 10^10. */
function digitCount(m: number): number {
  let count = 1;
  while (m >= (POW10[count] as number)) count++;
  return count;
}

/** Writes the positive integer m's `count` digits ending just before `end`. */
function writeDigits(out: Uint8Array, end: number, m: number, count: number): void {
  for (let i = end - 1; i >= end - count; i--) {
    const d = m % 10;
    out[i] = ZERO + d;
    m = (m - d) / 10;
  }
}

/**
 * Writes {@link formatProbability}'s text for p as ASCII at `pos`, without a string on the fast path; returns
 * the position after it. `out` must have {@link MAX_PROBABILITY_BYTES} free from `pos`. (formatProbability lays
 * out its string itself rather than slicing these bytes, which made it ~20 % slower: 226 – 240 against
 * 180 – 197 ns per value; both are tested against the definition.)
 */
export function writeProbability(out: Uint8Array, pos: number, p: number): number {
  if (!decompose(p)) {
    const text = formatSlow(p);
    for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
    return pos;
  }
  if (p < 0) out[pos++] = MINUS;
  const count = digitCount(digits);
  const point = exponent + 1;
  if (point > 0) {
    if (point >= count) {
      // ddd000
      writeDigits(out, pos + count, digits, count);
      out.fill(ZERO, pos + count, pos + point);
      return pos + point;
    }
    // ddd.ddd: the digits after the point one place on, the point in the gap.
    writeDigits(out, pos + count + 1, digits, count);
    for (let i = 0; i < point; i++) out[pos + i] = out[pos + i + 1] as number;
    out[pos + point] = DOT;
    return pos + count + 1;
  }
  if (exponent >= -6) {
    out[pos++] = ZERO;
    out[pos++] = DOT;
    for (let i = -point; i > 0; i--) out[pos++] = ZERO;
    writeDigits(out, pos + count, digits, count);
    return pos + count;
  }
  // d.ddde-x: the digits one place on, then the first moved in front of the point.
  writeDigits(out, pos + 1 + count, digits, count);
  out[pos] = out[pos + 1] as number;
  if (count > 1) {
    out[pos + 1] = DOT;
    pos += count + 1;
  } else pos += 1;
  out[pos++] = E;
  out[pos++] = MINUS;
  const power = -exponent;
  const powerDigits = digitCount(power);
  writeDigits(out, pos + powerDigits, power, powerDigits);
  return pos + powerDigits;
}

/** Reused by {@link float32Json} and {@link float32JsonBytes}; grows to the largest array written. */
const scratch = new ScratchBuffer();

/**
 * Writes values as a JSON array into {@link scratch} at `pos`, or with `rowWidth` as an array of rows of that
 * many values; returns the position after it.
 */
function writeFloat32Json(pos: number, values: Float32Array, rowWidth?: number): number {
  const rows = rowWidth === undefined ? 0 : values.length / rowWidth;
  // Each value and its comma, each row's brackets, the outer brackets.
  const out = scratch.reserve(pos, values.length * (MAX_PROBABILITY_BYTES + 1) + 2 * rows + 2);
  out[pos++] = 0x5b; // [
  for (let i = 0; i < values.length; i++) {
    const rowStart = rowWidth !== undefined && i % rowWidth === 0;
    if (rowStart && i > 0) out[pos++] = 0x5d; // ]
    if (i > 0) out[pos++] = 0x2c; // ,
    if (rowStart) out[pos++] = 0x5b; // [
    const v = values[i] as number;
    if (Number.isFinite(v)) pos = writeProbability(out, pos, v);
    else pos += out.write('null', pos, 'latin1');
  }
  if (rows > 0) out[pos++] = 0x5d; // the last row's ]
  out[pos++] = 0x5d; // ]
  return pos;
}

/**
 * Float32 values as a JSON array, each with the 9 significant digits that give back the same float32 (a
 * double's shortest text has up to 17: `0.600000024`, not `0.6000000238418579`), so shorter to write, send and
 * parse. Non-finite values are written as null, as JSON.stringify would. The text is laid out as bytes and
 * made a string once: joining one small string per value would leave a string object per value, and a
 * concatenation node per value, for the collector.
 */
export function float32Json(values: Float32Array): string {
  return scratch.latin1(writeFloat32Json(0, values));
}

/**
 * `before`, {@link float32Json}'s array of values (with `rowWidth`, an array of rows of that many values), then
 * `after`, as one UTF-8 buffer of its own.
 */
export function float32JsonBytes(
  before: string,
  values: Float32Array,
  after: string,
  rowWidth?: number,
): Buffer {
  let pos = scratch.reserve(0, Buffer.byteLength(before)).write(before, 0, 'utf8');
  pos = writeFloat32Json(pos, values, rowWidth);
  pos += scratch.reserve(pos, Buffer.byteLength(after)).write(after, pos, 'utf8');
  return scratch.copy(pos);
}
