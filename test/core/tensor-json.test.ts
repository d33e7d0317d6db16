/**
 * Tensor data as Open Inference Protocol JSON (lib/core/tensor-json.ts): the JSON text is parsed back with
 * JSON.parse and compared with the values the tensor holds by definition (BOOL true/false, FP16 by its value,
 * 64-bit integers with all their digits, non-finite floats null), then read back to the same data.
 */
import t from 'tap';
import fc from 'fast-check';
import { elementJson, tensorDataFromJson, tensorDataJson } from '../../lib/core/tensor-json.js';
import type { Datatype } from '../../lib/core/model-contract.js';
import type { TensorData } from '../../lib/core/tensor.js';

const isHalfNaN = (b: number): boolean => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;

/** Every datatype with sample data and the JSON values it stands for. */
const SAMPLES: { datatype: Datatype; data: TensorData; json: unknown[] }[] = [
  { datatype: 'BOOL', data: Uint8Array.from([1, 0, 1]), json: [true, false, true] },
  { datatype: 'UINT8', data: Uint8Array.from([0, 255, 7]), json: [0, 255, 7] },
  { datatype: 'UINT16', data: Uint16Array.from([0, 65535, 9]), json: [0, 65535, 9] },
  { datatype: 'UINT32', data: Uint32Array.from([0, 4294967295]), json: [0, 4294967295] },
  { datatype: 'INT8', data: Int8Array.from([-128, 127, 0]), json: [-128, 127, 0] },
  { datatype: 'INT16', data: Int16Array.from([-32768, 32767]), json: [-32768, 32767] },
  {
    datatype: 'INT32',
    data: Int32Array.from([-2147483648, 2147483647, 5]),
    json: [-2147483648, 2147483647, 5],
  },
  { datatype: 'INT64', data: BigInt64Array.from([-5n, 0n, 2n ** 53n - 1n]), json: [-5, 0, 2 ** 53 - 1] },
  { datatype: 'UINT64', data: BigUint64Array.from([0n, 2n ** 53n]), json: [0, 2 ** 53] },
  // 1, -2, 0.5, 65504, the smallest subnormal, -0.
  {
    datatype: 'FP16',
    data: Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000]),
    json: [1, -2, 0.5, 65504, 2 ** -24, 0],
  },
  { datatype: 'FP32', data: Float32Array.from([0.5, -1.25, 3e38]), json: [0.5, -1.25, Math.fround(3e38)] },
  { datatype: 'FP64', data: Float64Array.from([0.1, -1e300, 5e-324]), json: [0.1, -1e300, 5e-324] },
  { datatype: 'BYTES', data: ['', 'a,b', 'say "hi"', 'é😀\n'], json: ['', 'a,b', 'say "hi"', 'é😀\n'] },
];

function same(datatype: Datatype, a: TensorData | string, b: TensorData): boolean {
  if (typeof a === 'string') return false;
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (datatype === 'FP16' && isHalfNaN(x as number) && isHalfNaN(y as number)) continue;
    if (typeof x === 'number' && Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x !== y) return false;
  }
  return true;
}

t.test('tensorDataJson is the values as JSON, and reads back to the same data', async (t) => {
  for (const { datatype, data, json } of SAMPLES) {
    // FP32 is written with 9 digits: the float32 nearest to the number read is the value.
    const read = (text: string): unknown =>
      datatype === 'FP32' ? (JSON.parse(text) as number[]).map(Math.fround) : JSON.parse(text);
    const text = tensorDataJson(datatype, data);
    t.same(read(text), json, `${datatype}: ${text}`);
    const back = tensorDataFromJson(datatype, JSON.parse(text) as unknown[]);
    t.ok(sameUpToZeroSign(datatype, back, data), `${datatype} round trip`);
    // elementJson is each element of the same array.
    const elements = Array.from({ length: data.length }, (_, i) =>
      elementJson({ name: 'x', datatype, shape: [data.length], data }, i),
    );
    t.same(read(`[${elements.join(',')}]`), json, `${datatype} elementJson`);
  }
});

t.test('64-bit integers are written with all their digits', async (t) => {
  const i64 = BigInt64Array.from([9223372036854775807n, -9223372036854775808n, 9007199254740993n]);
  t.equal(tensorDataJson('INT64', i64), '[9223372036854775807,-9223372036854775808,9007199254740993]');
  const u64 = BigUint64Array.from([18446744073709551615n]);
  t.equal(tensorDataJson('UINT64', u64), '[18446744073709551615]');
  t.equal(elementJson({ name: 'x', datatype: 'INT64', shape: [3], data: i64 }, 0), '9223372036854775807');
  t.equal(elementJson({ name: 'x', datatype: 'UINT64', shape: [1], data: u64 }, 0), '18446744073709551615');
});

t.test('non-finite floats are null, and null reads back as NaN', async (t) => {
  t.equal(tensorDataJson('FP32', Float32Array.from([NaN, Infinity, -Infinity, 1])), '[null,null,null,1]');
  t.equal(tensorDataJson('FP64', Float64Array.from([NaN, Infinity, 2])), '[null,null,2]');
  t.equal(tensorDataJson('FP16', Uint16Array.from([0x7e00, 0x7c00, 0xfc00, 0x3c00])), '[null,null,null,1]');
  for (const datatype of ['FP32', 'FP64'] as const) {
    const data = {
      name: 'x',
      datatype,
      shape: [2],
      data: datatype === 'FP32' ? Float32Array.from([NaN, -Infinity]) : Float64Array.from([NaN, -Infinity]),
    };
    t.equal(elementJson(data, 0), 'null');
    t.equal(elementJson(data, 1), 'null');
  }
  t.equal(
    elementJson({ name: 'x', datatype: 'FP16', shape: [1], data: Uint16Array.from([0x7c00]) }, 0),
    'null',
  );
  const fp32 = tensorDataFromJson('FP32', [null, 1.5]) as Float32Array;
  t.ok(fp32 instanceof Float32Array && Number.isNaN(fp32[0]) && fp32[1] === 1.5, 'FP32 null → NaN');
  const fp64 = tensorDataFromJson('FP64', [null]) as Float64Array;
  t.ok(fp64 instanceof Float64Array && Number.isNaN(fp64[0]), 'FP64 null → NaN');
  const fp16 = tensorDataFromJson('FP16', [null, 1]) as Uint16Array;
  t.ok(
    fp16 instanceof Uint16Array && isHalfNaN(fp16[0] as number) && fp16[1] === 0x3c00,
    'FP16 null → NaN bits',
  );
});

t.test('FP32 is written with the digits that give back the same float32', async (t) => {
  const data = Float32Array.from([0.1, 1 / 3, 0.6]);
  const text = tensorDataJson('FP32', data);
  t.equal(text, '[0.100000001,0.333333343,0.600000024]');
  t.same(Float32Array.from(JSON.parse(text) as number[]), data);
  t.equal(elementJson({ name: 'p', datatype: 'FP32', shape: [3], data }, 2), '0.600000024');
});

t.test('FP16 from JSON rounds to the nearest half; past its range is refused', async (t) => {
  t.same(
    Array.from(tensorDataFromJson('FP16', [0.1, 65504, -65504, 2 ** -25]) as Uint16Array),
    [0x2e66, 0x7bff, 0xfbff, 0],
  );
  t.equal(tensorDataFromJson('FP16', [0.1, 1e6]), 'element 1 is 1000000, not a valid FP16 value');
});

t.test('refusals: a value of the wrong kind', async (t) => {
  const refused = (dt: Datatype, values: unknown[], i: number): string =>
    `element ${i} is ${JSON.stringify(values[i])}, not a valid ${dt} value`;
  const check = (dt: Datatype, values: unknown[], i: number, what: string): void => {
    t.equal(tensorDataFromJson(dt, values), refused(dt, values, i), what);
  };
  check('BYTES', ['a', 1], 1, 'BYTES: a number');
  check('BYTES', [null], 0, 'BYTES: null');
  check('BOOL', [true, 1], 1, 'BOOL: a number');
  check('BOOL', ['true'], 0, 'BOOL: a string');
  for (const dt of ['INT8', 'UINT16', 'INT32', 'INT64', 'UINT64', 'FP16', 'FP32', 'FP64'] as const) {
    check(dt, [1, '2'], 1, `${dt} string refused`);
    check(dt, [true], 0, `${dt} boolean refused`);
    check(dt, [[1]], 0, `${dt} array refused`);
  }
  for (const dt of ['INT8', 'INT32', 'INT64', 'UINT8', 'UINT64'] as const)
    check(dt, [null], 0, `${dt}: null is not NaN`);
  check('INT64', [1.5], 0, 'INT64: not an integer');
  check('UINT64', [0, 2.5], 1, 'UINT64: not an integer');
  t.same(tensorDataFromJson('BYTES', []), []);
  t.same(tensorDataFromJson('FP32', []), new Float32Array(0));
});

// "a value the datatype cannot hold is refused, never wrapped or truncated" (tensor-json.ts).
const CANNOT_HOLD: [Datatype, number][] = [
  ['INT32', 1.5],
  ['UINT8', -1],
  ['UINT8', 256],
  ['INT8', 300],
  ['INT16', 40000],
  ['UINT32', 2 ** 32],
  ['INT64', 2 ** 63],
  ['INT64', 1e20],
  ['UINT64', -1],
  ['UINT64', 2 ** 64],
];

// Floats past the datatype's range: cells.ts refuses them from CSV ("number out of FP32 range").
const FLOAT_OVERFLOW: [Datatype, number][] = [
  ['FP32', 1e39],
  ['FP32', -1e39],
  ['FP16', 65520],
  ['FP16', 1e6],
];

t.test('integers the datatype cannot hold are refused, never wrapped or truncated', async (t) => {
  for (const [dt, v] of CANNOT_HOLD) {
    const result = tensorDataFromJson(dt, [v]);
    const shown = typeof result === 'string' ? result : `stored ${String(result[0])}`;
    t.test(`tensorDataFromJson(${dt}, [${v}]) is refused (got: ${shown})`, async (t) => {
      t.type(result, 'string');
    });
  }
  for (const [dt, v] of FLOAT_OVERFLOW) {
    const result = tensorDataFromJson(dt, [v]);
    const shown = typeof result === 'string' ? result : `stored ${String(result[0])}`;
    t.test(`tensorDataFromJson(${dt}, [${v}]) (past ${dt}'s range) is refused (got: ${shown})`, async (t) => {
      t.type(result, 'string');
    });
  }
  // Values a datatype holds are not refused.
  t.same(tensorDataFromJson('INT8', [-128, 127]), Int8Array.from([-128, 127]));
  t.same(tensorDataFromJson('UINT32', [4294967295]), Uint32Array.from([4294967295]));
  t.same(tensorDataFromJson('INT64', [-(2 ** 63)]), BigInt64Array.from([-(2n ** 63n)]));
  t.same(tensorDataFromJson('INT32', [3.0]), Int32Array.from([3]));
});

t.test('round trips for random data of every datatype (fast-check)', async () => {
  const arbitraries: [Datatype, fc.Arbitrary<TensorData>][] = [
    ['BOOL', fc.array(fc.integer({ min: 0, max: 1 })).map((a) => Uint8Array.from(a))],
    ['UINT8', fc.array(fc.integer({ min: 0, max: 255 })).map((a) => Uint8Array.from(a))],
    ['UINT16', fc.array(fc.integer({ min: 0, max: 65535 })).map((a) => Uint16Array.from(a))],
    ['UINT32', fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 })).map((a) => Uint32Array.from(a))],
    ['INT8', fc.array(fc.integer({ min: -128, max: 127 })).map((a) => Int8Array.from(a))],
    ['INT16', fc.array(fc.integer({ min: -32768, max: 32767 })).map((a) => Int16Array.from(a))],
    ['INT32', fc.array(fc.integer()).map((a) => Int32Array.from(a))],
    // JSON numbers are doubles: 64-bit integers round-trip up to 2^53.
    ['INT64', fc.array(fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n })).map((a) => BigInt64Array.from(a))],
    ['UINT64', fc.array(fc.bigInt({ min: 0n, max: 2n ** 53n })).map((a) => BigUint64Array.from(a))],
    ['FP16', fc.array(fc.integer({ min: 0, max: 0xffff })).map((a) => Uint16Array.from(a))],
    ['FP32', fc.array(fc.float({ noDefaultInfinity: true })).map((a) => Float32Array.from(a))],
    ['FP64', fc.array(fc.double({ noDefaultInfinity: true })).map((a) => Float64Array.from(a))],
    ['BYTES', fc.array(fc.string({ unit: 'grapheme' }))],
  ];
  for (const [dt, arbitrary] of arbitraries) {
    fc.assert(
      fc.property(arbitrary, (data) => {
        // ±Infinity halves become null, then NaN: leave them out of the round trip.
        const kept =
          dt === 'FP16'
            ? Uint16Array.from(data as Uint16Array, (b) => ((b & 0x7fff) === 0x7c00 ? 0 : b))
            : data;
        const text = tensorDataJson(dt, kept);
        const back = tensorDataFromJson(dt, JSON.parse(text) as unknown[]);
        // -0 in FP16 reads back as +0 through JSON (JSON.stringify(-0) is "0"); FP32/FP64 -0 likewise.
        return sameUpToZeroSign(dt, back, kept);
      }),
      { numRuns: 300 },
    );
  }
});

function sameUpToZeroSign(dt: Datatype, a: TensorData | string, b: TensorData): boolean {
  if (typeof a === 'string') return false;
  if (dt === 'FP16') {
    const norm = (x: number) => (x === 0x8000 ? 0 : isHalfNaN(x) ? 0x7e00 : x);
    return (
      a.length === b.length &&
      Array.from(a as Uint16Array).every((x, i) => norm(x) === norm((b as Uint16Array)[i] as number))
    );
  }
  return same(dt, a, b); // === takes -0 for 0
}
