/**
 * One CSV cell → one tensor element (lib/core/cells.ts), per datatype: what is stored, the raw value returned,
 * and the reason a cell is refused. Integer ranges are checked with BigInt against 2^(bits) limits written out
 * here, not the module's table.
 */
import t from 'tap';
import fc from 'fast-check';
import { cellWriter } from '../../lib/core/cells.js';
import type { Datatype } from '../../lib/core/model-contract.js';
import type { TensorData } from '../../lib/core/tensor.js';

const ARRAYS = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as const;

/** Writes `text` at element 1 of a 3-element array filled with a sentinel; returns the result and the array. */
function write(datatype: Datatype, text: string | undefined) {
  let data: TensorData;
  if (datatype === 'BYTES') data = ['<', '<', '<'];
  else {
    const typed = new ARRAYS[datatype](3);
    if (typed instanceof BigInt64Array || typed instanceof BigUint64Array) typed.fill(7n);
    else typed.fill(7);
    data = typed;
  }
  const result = cellWriter(datatype)(text, data, 1);
  return { result, data, stored: data[1] };
}

/** The other elements were not touched. */
function untouched(data: TensorData): boolean {
  const sentinel = Array.isArray(data) ? '<' : typeof data[0] === 'bigint' ? 7n : 7;
  return data[0] === sentinel && data[2] === sentinel;
}

const FLOATS = ['FP16', 'FP32', 'FP64'] as const;

/** FP16 bits of a few exactly representable values, by hand. */
function halfOf(x: number): number {
  const table: Record<string, number> = {
    '1.5': 0x3e00,
    '-2.25': 0xc080,
    '1000': 0x63d0,
    '7': 0x4700,
    '0.5': 0x3800,
    '5': 0x4500,
    '0': 0x0000,
    '0.01': 0x211f, // nearest half to 0.01: 0.0099945068359375
  };
  const bits = table[String(x)];
  if (bits === undefined) throw new Error(`no half for ${x}`);
  return bits;
}

const isHalfNaN = (b: number): boolean => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;

t.test('floats: decimals, NaN for an empty cell or "NaN"', async (t) => {
  for (const dt of FLOATS) {
    const stores = (x: number): number => (dt === 'FP64' ? x : Math.fround(x));
    for (const [text, value] of [
      ['1.5', 1.5],
      [' 1.5 ', 1.5],
      ['\t-2.25', -2.25],
      ['1e3', 1000],
      ['1E-2', 0.01],
      ['+7', 7],
      ['.5', 0.5],
      ['5.', 5],
      ['0', 0],
    ] as const) {
      const { result, data, stored } = write(dt, text);
      t.equal(result, value, `${dt} ${JSON.stringify(text)} raw value`);
      if (dt === 'FP16') t.equal(stored, halfOf(value), `${dt} ${JSON.stringify(text)} stored as its half`);
      else t.equal(stored, stores(value), `${dt} ${JSON.stringify(text)} stored`);
      t.ok(untouched(data), 'only its element written');
    }
    for (const text of ['', '   ', 'NaN', 'nan', ' NAN ']) {
      const { result, stored, data } = write(dt, text);
      t.ok(typeof result === 'number' && Number.isNaN(result), `${dt} ${JSON.stringify(text)} → NaN`);
      if (dt === 'FP16') t.ok(isHalfNaN(stored as number), `${dt} stores a NaN pattern`);
      else t.ok(Number.isNaN(stored), `${dt} stores NaN`);
      t.ok(untouched(data));
    }
    // FP32 keeps float32 precision, FP64 a double's.
    if (dt === 'FP32') t.equal(write(dt, '0.1').stored, Math.fround(0.1));
    if (dt === 'FP64') t.equal(write(dt, '0.1').stored, 0.1);
    t.equal(write(dt, '0.1').result, 0.1, 'the raw value is the double');
  }
});

t.test('floats: refusals name the text', async (t) => {
  for (const dt of FLOATS) {
    for (const text of ['abc', '1,5', '0x10', 'Infinity', '-inf', '1e', '--1', '1 2']) {
      const { result, data } = write(dt, text);
      t.type(result, 'string', `${dt} ${JSON.stringify(text)} refused`);
      t.match(result, JSON.stringify(text), 'the reason quotes the text');
      t.ok(untouched(data));
    }
    t.equal(write(dt, undefined).result, 'missing value', `${dt} missing cell refused`);
    t.match(write(dt, '1e999').result, /range/, `${dt} beyond doubles refused`);
    // A long text is cut short in the reason.
    const long = 'x'.repeat(500);
    const reason = write(dt, long).result as string;
    t.ok(reason.length < 120, 'a long cell is cut short in the reason');
    t.match(reason, 'xxxxxxxxxx');
  }
});

t.test('floats: overflow of the datatype is refused', async (t) => {
  const fp32 = write('FP32', '1e39');
  t.equal(fp32.result, 'number out of FP32 range: "1e39"');
  t.ok(untouched(fp32.data));
  t.equal(write('FP32', '-1e39').result, 'number out of FP32 range: "-1e39"');
  t.equal(write('FP32', '3.4e38').stored, Math.fround(3.4e38), 'FP32 max region accepted');
  t.equal(write('FP32', '1e-50').stored, 0, 'underflow to 0 is not refused');
  t.equal(write('FP64', '1e39').stored, 1e39, 'FP64 holds 1e39');
  t.equal(write('FP64', '1e308').stored, 1e308);

  t.equal(write('FP16', '65504').stored, 0x7bff);
  t.equal(write('FP16', '65519').stored, 0x7bff, '65519 rounds to 65504');
  t.equal(write('FP16', '65519.999').stored, 0x7bff, '65519.999 rounds to 65504 (below 65520)');
  t.equal(write('FP16', '-65504').stored, 0xfbff);
  t.equal(write('FP16', '65520').result, 'number out of FP16 range: "65520"');
  t.equal(write('FP16', '1e5').result, 'number out of FP16 range: "1e5"');
  t.equal(write('FP16', '-70000').result, 'number out of FP16 range: "-70000"');
  t.equal(write('FP16', '1e39').result, 'number out of FP16 range: "1e39"');
  t.equal(write('FP16', '1e-9').stored, 0, 'underflow to 0 is not refused');
  t.equal(write('FP16', '-1e-9').stored, 0x8000);
});

// Ranges written out: [min, max] inclusive.
const LIMITS: [Datatype, bigint, bigint][] = [
  ['INT8', -128n, 127n],
  ['INT16', -32768n, 32767n],
  ['INT32', -2147483648n, 2147483647n],
  ['INT64', -9223372036854775808n, 9223372036854775807n],
  ['UINT8', 0n, 255n],
  ['UINT16', 0n, 65535n],
  ['UINT32', 0n, 4294967295n],
  ['UINT64', 0n, 18446744073709551615n],
];

const asBigInt = (v: unknown): bigint => BigInt(v as number | bigint);

t.test('integers: every width up to its limits, exactly', async (t) => {
  for (const [dt, min, max] of LIMITS) {
    for (const v of [min, max, min + 1n, max - 1n, 0n, 1n]) {
      const { result, stored, data } = write(dt, String(v));
      t.equal(asBigInt(stored), v, `${dt} ${v} stored exactly`);
      t.equal(result, Number(v), `${dt} ${v} raw value`);
      t.ok(untouched(data));
    }
    for (const v of [min - 1n, max + 1n, max * 2n + 5n, min - 2n ** 70n]) {
      const { result, data } = write(dt, String(v));
      t.equal(result, `integer out of ${dt} range: "${v}"`, `${dt} ${v} refused`);
      t.ok(untouched(data), 'nothing written');
    }
  }
  t.equal(write('INT64', '9223372036854775807').stored, 9223372036854775807n, 'INT64 max exact');
  t.equal(write('INT64', '9223372036854775806').stored, 9223372036854775806n, 'not rounded to a double');
  t.equal(write('INT64', '9007199254740993').stored, 9007199254740993n, '2^53 + 1 exact');
  t.equal(write('INT64', '9223372036854775808').result, 'integer out of INT64 range: "9223372036854775808"');
  t.equal(write('UINT64', '18446744073709551615').stored, 18446744073709551615n, 'UINT64 max exact');
  t.equal(
    write('UINT64', '18446744073709551616').result,
    'integer out of UINT64 range: "18446744073709551616"',
  );
  t.equal(write('UINT64', '-1').result, 'integer out of UINT64 range: "-1"');
});

t.test('integers: signs, spaces, integral decimals; fractions and empties refused', async (t) => {
  for (const [dt] of LIMITS) {
    const signed = dt.startsWith('INT');
    t.equal(asBigInt(write(dt, ' 12 ').stored), 12n, `${dt} spaces around`);
    t.equal(asBigInt(write(dt, '+12').stored), 12n, `${dt} plus sign`);
    t.equal(asBigInt(write(dt, '3.0').stored), 3n, `${dt} "3.0" accepted`);
    t.equal(write(dt, '3.0').result, 3);
    t.equal(asBigInt(write(dt, '1e2').stored), 100n, `${dt} "1e2" accepted`);
    t.equal(asBigInt(write(dt, '007').stored), 7n, `${dt} leading zeros`);
    if (signed) t.equal(asBigInt(write(dt, '-3.0').stored), -3n, `${dt} "-3.0"`);
    t.equal(asBigInt(write(dt, '-0').stored), 0n, `${dt} "-0"`);
    for (const text of ['1.5', '0.1', 'abc', '1,0', '0x10', '1e-1', 'NaN', 'Infinity', '1 2']) {
      const { result, data } = write(dt, text);
      t.equal(result, `not an integer: ${JSON.stringify(text)}`, `${dt} ${JSON.stringify(text)} refused`);
      t.ok(untouched(data));
    }
    t.equal(write(dt, '').result, 'empty value', `${dt} empty refused`);
    t.equal(write(dt, '  ').result, 'empty value', `${dt} blank refused`);
    t.equal(write(dt, undefined).result, 'missing value', `${dt} missing refused`);
  }
  t.equal(write('INT8', '127.0').stored, 127);
  t.equal(write('INT8', '128.0').result, 'integer out of INT8 range: "128.0"');
  t.equal(write('UINT8', '2.55e2').stored, 255);
});

t.test('integers: random values in and out of range (fast-check)', async () => {
  for (const [dt, min, max] of LIMITS) {
    fc.assert(
      fc.property(fc.bigInt({ min: min - 2n ** 66n, max: max + 2n ** 66n }), (v) => {
        const { result, stored } = write(dt, String(v));
        if (v >= min && v <= max) return asBigInt(stored) === v && result === Number(v);
        return result === `integer out of ${dt} range: "${v}"` && asBigInt(stored) === 7n;
      }),
      { numRuns: 2_000 },
    );
  }
});

t.test('BOOL: true/false/1/0 in any case', async (t) => {
  for (const [text, value] of [
    ['true', 1],
    ['TRUE', 1],
    ['True', 1],
    [' tRuE ', 1],
    ['1', 1],
    ['false', 0],
    ['FALSE', 0],
    ['False', 0],
    ['0', 0],
    [' 0', 0],
  ] as const) {
    const { result, stored, data } = write('BOOL', text);
    t.equal(stored, value, `${JSON.stringify(text)} stored`);
    t.equal(result, value, `${JSON.stringify(text)} raw`);
    t.ok(untouched(data));
  }
  for (const text of ['yes', 'no', 't', 'f', '2', '-1', '1.0', 'truee', 'on']) {
    const { result, data } = write('BOOL', text);
    t.type(result, 'string', `${JSON.stringify(text)} refused`);
    t.match(result, JSON.stringify(text));
    t.ok(untouched(data));
  }
  t.equal(write('BOOL', 'yes').result, 'not a boolean (true, false, 1 or 0): "yes"');
  t.equal(write('BOOL', '').result, 'empty value');
  t.equal(write('BOOL', undefined).result, 'missing value');
});

t.test('BYTES: the text as it is', async (t) => {
  for (const text of ['', ' padded ', 'a,b', 'say "hi"', 'line\nbreak', 'é😀中', 'NaN', '1e3']) {
    const { result, stored, data } = write('BYTES', text);
    t.equal(stored, text, `${JSON.stringify(text)} stored as is`);
    t.ok(typeof result === 'number' && Number.isNaN(result), 'raw value NaN');
    t.ok(untouched(data));
  }
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const { result, stored } = write('BYTES', s);
      return stored === s && Number.isNaN(result);
    }),
  );
});
