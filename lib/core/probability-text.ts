/**
 * A float32 probability as text, as a string or as ASCII bytes written into a buffer: 9 significant digits
 * round-trip any float32, and dropping trailing zeros keeps the file small. Both are equal to
 * `String(Number(p.toPrecision(9)))` for every number (checked against it for every positive float32 below 1
 * by benchmarks/check-format.ts); two to five times faster than it for probabilities.
 */

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

/** What {@link decompose} found: p rounds to `digits` × 10^(exponent − digits' length + 1). */
let digits = 0;
let exponent = 0;

/**
 * The fast path: for a float32 strictly between 0 and 1, sets `digits` (its 9 significant digits without the
 * trailing zeros) and `exponent` (p = d.ddd × 10^exponent) and returns true; false sends p the slow way.
 *
 * It scales p by 10^n into [1e8, 1e9): two roundings (10^n, the product) put the result within 3e-7 of the
 * exact p · 10^n, so rounding it to an integer agrees with toPrecision's exact decimal rounding (ties away from
 * zero) unless it lies within 1e-6 of a tie or of the interval's ends, which go the slow way. A decimal of at
 * most 9 significant digits is the shortest text of the double nearest to it (doubles tell 15-digit decimals
 * apart), so its digits without trailing zeros are what `String(Number(…))` prints.
 */
function decompose(p: number): boolean {
  if (!(p > 0 && p < 1) || Math.fround(p) !== p) return false;
  // p · 10^n in [1e8, 1e9), give or take the one step log10's rounding may miss by.
  let n = 8 - Math.floor(Math.log10(p));
  let x = p * (POW10[n] as number);
  if (x < 1e8) x = p * (POW10[++n] as number);
  else if (x >= 1e9) x = p * (POW10[--n] as number);
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (Math.abs(fraction - 0.5) < 1e-6 || x < 1e8 + 1e-6 || x > 1e9 - 1e-6) return false;
  // m has 9 digits, or is 10^9 when p rounds up to the next power of ten.
  let m = fraction > 0.5 ? floor + 1 : floor;
  exponent = 8 - n;
  if (m === 1e9) {
    m = 1;
    exponent++;
    // 1 itself (no float32 below 1 rounds up to it, but the slow path would print it right if one did).
    if (exponent >= 0) return false;
  } else {
    while (m % 10 === 0) m /= 10;
  }
  digits = m;
  return true;
}

/**
 * The probability's text: plain from 1e-6 up, exponential below, as `String(Number(…))` prints it.
 */
export function formatProbability(p: number): string {
  if (!decompose(p)) return formatSlow(p);
  const text = String(digits);
  if (exponent >= -6) return `0.${'0'.repeat(-exponent - 1)}${text}`;
  const mantissa = text.length === 1 ? text : `${text[0] as string}.${text.slice(1)}`;
  return `${mantissa}e${exponent}`;
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
 * the position after it. `out` must have {@link MAX_PROBABILITY_BYTES} free from `pos`.
 */
export function writeProbability(out: Uint8Array, pos: number, p: number): number {
  if (!decompose(p)) {
    const text = formatSlow(p);
    for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
    return pos;
  }
  const count = digitCount(digits);
  if (exponent >= -6) {
    out[pos++] = ZERO;
    out[pos++] = DOT;
    for (let i = -exponent - 1; i > 0; i--) out[pos++] = ZERO;
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
