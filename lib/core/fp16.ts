/**
 * IEEE 754 half precision (FP16) ↔ JavaScript numbers. onnxruntime-node and the binary tensor extension carry
 * FP16 as its 16-bit patterns (a Uint16Array); JSON carries numbers. Conversion rounds to nearest, ties to even,
 * as a float32 → float16 cast does; values past the largest half (65504) become ±Infinity.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The half-precision bit pattern nearest to `value`. */
export function toHalfBits(value: number): number {
  F32[0] = value;
  const x = U32[0] as number;
  // Rounding to float32 first may land a value just off a midpoint of two halves on it (double rounding): the
  // tie is then broken by the side the value was on (the difference is never rounded to 0), and only an exact tie
  // goes to even.
  const above = Math.abs(value) - Math.abs(F32[0]);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200); // Infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflow to ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && (above > 0 || (above === 0 && (half & 1) === 1)))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the right rounding (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (above > 0 || (above === 0 && (half & 1) === 1)))) half++;
  return sign | half;
}

/** The number a half-precision bit pattern holds. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
