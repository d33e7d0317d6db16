/**
 * FP16 ↔ numbers (lib/core/fp16.ts) against an independent definition: IEEE 754 binary16 (1 sign bit, 5
 * exponent bits biased by 15, 10 mantissa bits; exponent 0 subnormal, 31 Infinity/NaN), and rounding to the
 * nearest half, ties to the even mantissa, computed here from the sorted list of every finite half.
 */
import t from 'tap';
import fc from 'fast-check';
import { fromHalfBits, toHalfBits } from '../../lib/core/fp16.js';

/** binary16 by its definition, written out longhand. */
function halfValue(bits: number): number {
  const negative = bits >= 0x8000;
  const exponent = (bits >> 10) & 31;
  const mantissa = bits % 1024;
  let magnitude: number;
  if (exponent === 31) magnitude = mantissa === 0 ? Infinity : NaN;
  else if (exponent === 0) magnitude = (mantissa / 1024) * Math.pow(2, -14);
  else magnitude = (1 + mantissa / 1024) * Math.pow(2, exponent - 15);
  return negative ? -magnitude : magnitude;
}

/** Every non-negative finite half in increasing order: patterns 0x0000 … 0x7bff. */
const HALVES = Array.from({ length: 0x7c00 }, (_, b) => halfValue(b));

const isNaNBits = (b: number): boolean => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;

/**
 * The half nearest to v, ties to even, as a bit pattern. The midpoint of two neighbouring halves (their sum, exact
 * in doubles) is compared with 2|v| (exact too), so no subtraction rounds. Past 65504 the next "half" is 2^16,
 * which is Infinity.
 */
function referenceBits(v: number): number {
  if (Number.isNaN(v)) throw new Error('no reference for NaN');
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  // Largest pattern whose value is ≤ a.
  let lo = 0;
  let hi = HALVES.length - 1;
  if (a >= (HALVES[hi] as number)) lo = hi;
  else {
    while (hi - lo > 1) {
      const m = (lo + hi) >> 1;
      if ((HALVES[m] as number) <= a) lo = m;
      else hi = m;
    }
  }
  const lower = HALVES[lo] as number;
  if (lower === a) return sign | lo;
  const upper = lo === 0x7bff ? 65536 : (HALVES[lo + 1] as number);
  const twice = 2 * a;
  const mid = lower + upper;
  let bits: number;
  if (twice < mid) bits = lo;
  else if (twice > mid) bits = lo + 1;
  else bits = lo % 2 === 0 ? lo : lo + 1;
  return sign | bits; // lo + 1 === 0x7c00 is Infinity
}

t.test('the reference itself: known halves', async (t) => {
  t.equal(halfValue(0x3c00), 1);
  t.equal(halfValue(0xc000), -2);
  t.equal(halfValue(0x7bff), 65504);
  t.equal(halfValue(0x0001), 2 ** -24);
  t.equal(halfValue(0x03ff), 2 ** -14 - 2 ** -24);
  t.equal(halfValue(0x0400), 2 ** -14);
  t.equal(halfValue(0x3555), 0.333251953125);
  t.equal(halfValue(0x7c00), Infinity);
  t.equal(halfValue(0xfc00), -Infinity);
  t.ok(Object.is(halfValue(0x8000), -0));
  for (let i = 1; i < HALVES.length; i++)
    if (!((HALVES[i] as number) > (HALVES[i - 1] as number))) throw new Error(`not increasing at ${i}`);
});

t.test('fromHalfBits is binary16 for all 65536 patterns', async (t) => {
  let bad = 0;
  for (let b = 0; b < 0x10000; b++) {
    const expected = halfValue(b);
    const actual = fromHalfBits(b);
    const ok = Number.isNaN(expected) ? Number.isNaN(actual) : Object.is(actual, expected);
    if (!ok && bad++ < 5) t.fail(`0x${b.toString(16)}: ${actual}, expected ${expected}`);
  }
  t.equal(bad, 0);
});

t.test('toHalfBits(fromHalfBits(b)) === b for every non-NaN pattern; NaN stays NaN', async (t) => {
  let bad = 0;
  let nans = 0;
  for (let b = 0; b < 0x10000; b++) {
    const back = toHalfBits(fromHalfBits(b));
    if (isNaNBits(b)) {
      nans++;
      if (!isNaNBits(back) && bad++ < 5)
        t.fail(`NaN 0x${b.toString(16)} came back as 0x${back.toString(16)}`);
    } else if (back !== b && bad++ < 5) t.fail(`0x${b.toString(16)} came back as 0x${back.toString(16)}`);
  }
  t.equal(bad, 0);
  t.equal(nans, 2 * 1023);
  t.equal(toHalfBits(0), 0);
  t.equal(toHalfBits(-0), 0x8000);
  t.ok(isNaNBits(toHalfBits(NaN)));
  t.equal(toHalfBits(Infinity), 0x7c00);
  t.equal(toHalfBits(-Infinity), 0xfc00);
});

t.test('values between two halves round to the nearest, ties to even', async (t) => {
  let checked = 0;
  for (let b = 0; b < 0x7c00; b++) {
    const lower = HALVES[b] as number;
    const upper = b === 0x7bff ? 65536 : (HALVES[b + 1] as number);
    const mid = (lower + upper) / 2; // exact: one bit more than a half's 11
    const even = b % 2 === 0 ? b : b + 1;
    for (const sign of [0, 0x8000]) {
      const s = sign === 0 ? 1 : -1;
      const tie = toHalfBits(s * mid);
      if (tie !== (sign | even)) {
        t.fail(`midpoint ${s * mid}: 0x${tie.toString(16)}, expected 0x${(sign | even).toString(16)}`);
        return;
      }
      // A quarter of the way from each end: no tie, well inside float32's precision.
      const nearLower = toHalfBits(s * (lower + (upper - lower) / 4));
      const nearUpper = toHalfBits(s * (upper - (upper - lower) / 4));
      if (nearLower !== (sign | b) || nearUpper !== (sign | (b + 1))) {
        t.fail(
          `between 0x${b.toString(16)} and the next: 0x${nearLower.toString(16)}, 0x${nearUpper.toString(16)}`,
        );
        return;
      }
      checked++;
    }
  }
  t.equal(checked, 2 * 0x7c00);
  // Named cases.
  t.equal(toHalfBits(1 + 2 ** -11), 0x3c00, '1 + half an ulp: tie, to even (1)');
  t.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02, '1 + 1.5 ulp: tie, to even (1 + 2 ulp)');
  t.equal(toHalfBits(0.1), 0x2e66);
  t.equal(toHalfBits(-0.1), 0xae66);
  t.equal(toHalfBits(1 / 3), 0x3555);
  t.equal(toHalfBits(2049), 0x6800, '2049: tie between 2048 and 2050, to even');
  t.equal(toHalfBits(2051), 0x6802, '2051: tie between 2050 and 2052, to even (2052)');
});

t.test('a value just off a midpoint rounds to the nearer half, not to even', async (t) => {
  // These lie closer to one half than float32's precision can tell from the midpoint: a conversion through
  // float32 first (double rounding) lands on the midpoint and then goes to even, the wrong way half of the time.
  const cases: [number, number, string][] = [
    [1 + 2 ** -11 + 2 ** -40, 0x3c01, '1 + half an ulp + 2^-40'],
    [1 + 3 * 2 ** -11 - 2 ** -40, 0x3c01, '1 + 1.5 ulp − 2^-40'],
    [2 ** -25 + 2 ** -60, 0x0001, 'just above half the smallest subnormal'],
    [-(2 ** -25 + 2 ** -60), 0x8001, 'its negative'],
    [65520 - 2 ** -30, 0x7bff, 'just below the overflow threshold 65520: 65504, not Infinity'],
    [65519.999, 0x7bff, '65519.999: 65504'],
    [-(65520 - 2 ** -30), 0xfbff, 'negative, just above −65520'],
  ];
  for (const [v, expected, name] of cases) {
    t.equal(referenceBits(v), expected, `reference: ${name}`);
    t.equal(toHalfBits(v), expected, name);
  }
});

t.test('overflow above 65504 (+ half an ulp) is Infinity', async (t) => {
  t.equal(toHalfBits(65504), 0x7bff);
  t.equal(toHalfBits(65519), 0x7bff);
  t.equal(toHalfBits(65520), 0x7c00, 'the midpoint to 2^16 goes to even: Infinity');
  t.equal(toHalfBits(65536), 0x7c00);
  t.equal(toHalfBits(1e10), 0x7c00);
  t.equal(toHalfBits(1e300), 0x7c00, 'beyond float32 too');
  t.equal(toHalfBits(-65520), 0xfc00);
  t.equal(toHalfBits(-65519), 0xfbff);
  t.equal(toHalfBits(Number.MAX_VALUE), 0x7c00);
});

t.test('subnormals and underflow', async (t) => {
  t.equal(toHalfBits(2 ** -24), 0x0001);
  t.equal(toHalfBits(2 ** -14), 0x0400, 'smallest normal');
  t.equal(toHalfBits(2 ** -14 - 2 ** -24), 0x03ff, 'largest subnormal');
  t.equal(toHalfBits(2 ** -25), 0x0000, 'half the smallest subnormal: tie, to even (0)');
  t.equal(toHalfBits(3 * 2 ** -25), 0x0002, '1.5 × the smallest subnormal: tie, to even (2)');
  t.equal(toHalfBits(2 ** -26), 0x0000);
  t.equal(toHalfBits(-(2 ** -26)), 0x8000, 'underflow keeps the sign');
  t.equal(toHalfBits(1e-300), 0x0000);
  t.equal(toHalfBits(-1e-300), 0x8000);
  t.equal(toHalfBits(Number.MIN_VALUE), 0x0000);
  t.equal(toHalfBits(1e-40), 0x0000, 'a float32 subnormal');
  t.equal(toHalfBits(5e-5), referenceBits(5e-5));
  t.equal(fromHalfBits(0x8001), -(2 ** -24));
});

t.test('toHalfBits is the nearest half for random numbers (fast-check)', async () => {
  const agrees = (v: number): boolean => toHalfBits(v) === referenceBits(v);
  fc.assert(fc.property(fc.double({ noNaN: true }), agrees), { numRuns: 20_000 });
  fc.assert(fc.property(fc.float({ noNaN: true }), agrees), { numRuns: 20_000 });
  fc.assert(fc.property(fc.double({ min: -70_000, max: 70_000, noNaN: true }), agrees), { numRuns: 20_000 });
  fc.assert(fc.property(fc.double({ min: -1e-4, max: 1e-4, noNaN: true }), agrees), { numRuns: 20_000 });
  // Near midpoints: a midpoint nudged by a few double ulps either way.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0x7bff }),
      fc.integer({ min: -64, max: 64 }),
      fc.boolean(),
      (b, k, neg) => {
        const lower = HALVES[b] as number;
        const upper = b === 0x7bff ? 65536 : (HALVES[b + 1] as number);
        const mid = (lower + upper) / 2;
        const v = (neg ? -1 : 1) * (mid + k * Math.max(Number.EPSILON * mid, Number.MIN_VALUE));
        return agrees(v);
      },
    ),
    { numRuns: 20_000 },
  );
});
