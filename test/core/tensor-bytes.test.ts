/**
 * The binary tensor extension's wire format (lib/core/tensor-bytes.ts; triton-inference-server/server
 * docs/protocol/extension_binary_data.md): the expected bytes are built here by hand with Buffer's explicit
 * little-endian writers, element by element, and the BYTES framing (4-byte LE length, then the UTF-8 bytes).
 */
import t from 'tap';
import fc from 'fast-check';
import { binarySize, decodeTensorBytes, encodeTensorBytes } from '../../lib/core/tensor-bytes.js';
import type { Datatype } from '../../lib/core/model-contract.js';
import type { Tensor, TensorData } from '../../lib/core/tensor.js';

class Bad extends Error {}
const bad = (message: string): never => {
  throw new Bad(message);
};

/** The error message decodeTensorBytes gives through `bad`, or undefined when it decodes. */
function refusal(datatype: Datatype, bytes: Uint8Array, count: number): string | undefined {
  try {
    decodeTensorBytes(datatype, bytes, count, bad);
    return undefined;
  } catch (err) {
    if (err instanceof Bad) return err.message;
    throw err;
  }
}

type Writer = (b: Buffer, v: number | bigint, at: number) => void;
const WIRE: Record<Exclude<Datatype, 'BYTES'>, [number, Writer]> = {
  BOOL: [1, (b, v, at) => b.writeUInt8(v as number, at)],
  UINT8: [1, (b, v, at) => b.writeUInt8(v as number, at)],
  INT8: [1, (b, v, at) => b.writeInt8(v as number, at)],
  UINT16: [2, (b, v, at) => b.writeUInt16LE(v as number, at)],
  INT16: [2, (b, v, at) => b.writeInt16LE(v as number, at)],
  FP16: [2, (b, v, at) => b.writeUInt16LE(v as number, at)],
  UINT32: [4, (b, v, at) => b.writeUInt32LE(v as number, at)],
  INT32: [4, (b, v, at) => b.writeInt32LE(v as number, at)],
  FP32: [4, (b, v, at) => b.writeFloatLE(v as number, at)],
  UINT64: [8, (b, v, at) => b.writeBigUInt64LE(v as bigint, at)],
  INT64: [8, (b, v, at) => b.writeBigInt64LE(v as bigint, at)],
  FP64: [8, (b, v, at) => b.writeDoubleLE(v as number, at)],
};

function wireOf(datatype: Datatype, values: readonly (number | bigint | string)[]): Buffer {
  if (datatype === 'BYTES') {
    const parts = (values as string[]).flatMap((s) => {
      const text = Buffer.from(s, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length, 0);
      return [length, text];
    });
    return Buffer.concat(parts);
  }
  const [width, write] = WIRE[datatype];
  const out = Buffer.alloc(width * values.length);
  values.forEach((v, i) => write(out, v as number | bigint, i * width));
  return out;
}

const SAMPLES: { datatype: Datatype; data: TensorData; values: (number | bigint | string)[] }[] = [
  { datatype: 'BOOL', data: Uint8Array.from([1, 0, 1]), values: [1, 0, 1] },
  { datatype: 'UINT8', data: Uint8Array.from([0, 255, 17]), values: [0, 255, 17] },
  { datatype: 'INT8', data: Int8Array.from([-128, 127, -1]), values: [-128, 127, -1] },
  { datatype: 'UINT16', data: Uint16Array.from([0x1234, 65535]), values: [0x1234, 65535] },
  { datatype: 'INT16', data: Int16Array.from([-2, 300]), values: [-2, 300] },
  { datatype: 'FP16', data: Uint16Array.from([0x3c00, 0xc000, 0x7e00]), values: [0x3c00, 0xc000, 0x7e00] },
  { datatype: 'UINT32', data: Uint32Array.from([0xdeadbeef, 1]), values: [0xdeadbeef, 1] },
  { datatype: 'INT32', data: Int32Array.from([-2147483648, 0x01020304]), values: [-2147483648, 0x01020304] },
  {
    datatype: 'FP32',
    data: Float32Array.from([1.5, -0.1, Infinity]),
    values: [1.5, Math.fround(-0.1), Infinity],
  },
  {
    datatype: 'UINT64',
    data: BigUint64Array.from([18446744073709551615n, 0x0102030405060708n]),
    values: [18446744073709551615n, 0x0102030405060708n],
  },
  {
    datatype: 'INT64',
    data: BigInt64Array.from([-9223372036854775808n, -1n, 9007199254740993n]),
    values: [-9223372036854775808n, -1n, 9007199254740993n],
  },
  { datatype: 'FP64', data: Float64Array.from([0.1, -1e300, 5e-324]), values: [0.1, -1e300, 5e-324] },
  {
    datatype: 'BYTES',
    data: ['', 'abc', 'é😀', 'a\u0000b', 'x'.repeat(300)],
    values: ['', 'abc', 'é😀', 'a\u0000b', 'x'.repeat(300)],
  },
];

const tensorOf = (datatype: Datatype, data: TensorData): Tensor => ({
  name: 't',
  datatype,
  shape: [data.length],
  data,
});

t.test('encode: little-endian, row-major, no padding; decode gives the data back', async (t) => {
  for (const { datatype, data, values } of SAMPLES) {
    const expected = wireOf(datatype, values);
    const encoded = encodeTensorBytes(tensorOf(datatype, data));
    t.ok(
      Buffer.from(encoded).equals(expected),
      `${datatype} encodes to ${expected.toString('hex').slice(0, 64)}`,
    );
    const decoded = decodeTensorBytes(datatype, expected, values.length, bad);
    t.same(Array.from(decoded as ArrayLike<unknown>), values, `${datatype} decodes`);
    if (!Array.isArray(decoded)) t.equal(decoded.constructor, data.constructor, `${datatype} array type`);
    if (datatype !== 'BYTES')
      t.equal(binarySize(datatype, values.length), expected.length, `${datatype} size`);
  }
  // A few explicit byte strings.
  t.equal(encodeTensorBytes(tensorOf('INT32', Int32Array.from([1, -2]))).toString('hex'), '01000000feffffff');
  t.equal(encodeTensorBytes(tensorOf('FP16', Uint16Array.from([0x3c00]))).toString('hex'), '003c');
  t.equal(encodeTensorBytes(tensorOf('BYTES', ['hi', ''])).toString('hex'), '02000000686900000000');
  t.equal(
    encodeTensorBytes(tensorOf('BYTES', ['é'])).toString('hex'),
    '02000000c3a9',
    'length in UTF-8 bytes',
  );
  t.equal(encodeTensorBytes(tensorOf('BYTES', [])).length, 0);
});

t.test('binarySize: element width × count', async (t) => {
  const widths: [Exclude<Datatype, 'BYTES'>, number][] = [
    ['BOOL', 1],
    ['UINT8', 1],
    ['INT8', 1],
    ['UINT16', 2],
    ['INT16', 2],
    ['FP16', 2],
    ['UINT32', 4],
    ['INT32', 4],
    ['FP32', 4],
    ['UINT64', 8],
    ['INT64', 8],
    ['FP64', 8],
  ];
  for (const [dt, w] of widths) {
    t.equal(binarySize(dt, 0), 0);
    t.equal(binarySize(dt, 7), 7 * w, dt);
  }
});

t.test('encode of a view writes just the view’s elements', async (t) => {
  const whole = Float64Array.from([1, 2, 3, 4]);
  const view = whole.subarray(1, 3);
  t.ok(encodeTensorBytes(tensorOf('FP64', view)).equals(wireOf('FP64', [2, 3])));
  const i16 = Int16Array.from([9, -9, 7]).subarray(2);
  t.ok(encodeTensorBytes(tensorOf('INT16', i16)).equals(wireOf('INT16', [7])));
});

t.test('decode reads unaligned bytes (a slice of a body) and copies them', async (t) => {
  const body = Buffer.concat([Buffer.from([0xaa]), wireOf('FP64', [1.25, -3]), Buffer.from([0xbb])]);
  const slice = body.subarray(1, 17);
  const decoded = decodeTensorBytes('FP64', slice, 2, bad) as Float64Array;
  t.same(Array.from(decoded), [1.25, -3]);
  body.fill(0);
  t.same(Array.from(decoded), [1.25, -3], 'a copy: not changed with the body');
  const strings = Buffer.concat([Buffer.from([1, 2, 3]), wireOf('BYTES', ['ab', 'c'])]);
  t.same(decodeTensorBytes('BYTES', strings.subarray(3), 2, bad), ['ab', 'c']);
});

t.test('refusals: BOOL bytes > 1, size mismatch, truncated or extra BYTES data', async (t) => {
  t.equal(refusal('BOOL', Uint8Array.from([0, 1, 2]), 3), 'BOOL element 2 is the byte 2, expected 0 or 1');
  t.equal(refusal('BOOL', Uint8Array.from([255]), 1), 'BOOL element 0 is the byte 255, expected 0 or 1');
  t.equal(refusal('BOOL', Uint8Array.from([0, 1]), 2), undefined);
  t.equal(refusal('UINT8', Uint8Array.from([2, 255]), 2), undefined, 'UINT8 takes any byte');

  t.equal(refusal('FP32', new Uint8Array(7), 2), 'has 7 bytes of binary data, but 2 FP32 values need 8');
  t.equal(refusal('FP32', new Uint8Array(12), 2), 'has 12 bytes of binary data, but 2 FP32 values need 8');
  t.equal(refusal('INT64', new Uint8Array(8), 2), 'has 8 bytes of binary data, but 2 INT64 values need 16');
  t.equal(refusal('INT8', new Uint8Array(0), 1), 'has 0 bytes of binary data, but 1 INT8 values need 1');
  t.equal(refusal('FP16', new Uint8Array(0), 0), undefined, 'zero elements, zero bytes');

  const two = wireOf('BYTES', ['ab', 'cde']); // 4+2+4+3 = 13 bytes
  t.equal(refusal('BYTES', two, 2), undefined);
  t.equal(refusal('BYTES', two, 3), 'binary BYTES data ends before element 2 of 3');
  t.equal(refusal('BYTES', two.subarray(0, 12), 2), 'BYTES element 1 claims 3 bytes; only 2 are left');
  t.equal(
    refusal('BYTES', two.subarray(0, 8), 2),
    'binary BYTES data ends before element 1 of 2',
    'a length cut short',
  );
  t.equal(refusal('BYTES', two, 1), '7 bytes of binary BYTES data are left after 1 elements');
  t.equal(
    refusal('BYTES', Buffer.concat([two, Buffer.from([0])]), 2),
    '1 bytes of binary BYTES data are left after 2 elements',
  );
  t.equal(refusal('BYTES', Buffer.alloc(0), 0), undefined);
  const huge = Buffer.alloc(4);
  huge.writeUInt32LE(0xffffffff, 0);
  t.match(refusal('BYTES', huge, 1), /claims 4294967295 bytes/);
});

const DT = fc.constantFrom<Exclude<Datatype, 'BYTES'>>(
  'BOOL',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'FP16',
  'UINT32',
  'INT32',
  'FP32',
  'UINT64',
  'INT64',
  'FP64',
);

function arbitraryValue(dt: Exclude<Datatype, 'BYTES'>): fc.Arbitrary<number | bigint> {
  switch (dt) {
    case 'BOOL':
      return fc.integer({ min: 0, max: 1 });
    case 'UINT8':
      return fc.integer({ min: 0, max: 255 });
    case 'INT8':
      return fc.integer({ min: -128, max: 127 });
    case 'UINT16':
    case 'FP16':
      return fc.integer({ min: 0, max: 65535 });
    case 'INT16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'UINT32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'INT32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'FP32':
      return fc.float({ noNaN: true });
    case 'FP64':
      return fc.double({ noNaN: true });
    case 'UINT64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'INT64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  }
}

const CONSTRUCTORS = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  FP16: Uint16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
} as const;

t.test('random tensors encode to the hand-built bytes and decode back (fast-check)', async () => {
  fc.assert(
    fc.property(
      DT.chain((dt) => fc.tuple(fc.constant(dt), fc.array(arbitraryValue(dt), { maxLength: 20 }))),
      ([dt, values]) => {
        const data = new CONSTRUCTORS[dt](values.length);
        values.forEach((v, i) => {
          (data as unknown as (number | bigint)[])[i] = v;
        });
        const expected = wireOf(dt, values);
        const decoded = decodeTensorBytes(dt, expected, values.length, bad) as ArrayLike<number | bigint>;
        return (
          Buffer.from(encodeTensorBytes(tensorOf(dt, data))).equals(expected) &&
          decoded.length === values.length &&
          values.every((v, i) => Object.is(decoded[i], v))
        );
      },
    ),
    { numRuns: 2_000 },
  );
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 10 }), (values) => {
      const expected = wireOf('BYTES', values);
      return (
        encodeTensorBytes(tensorOf('BYTES', values)).equals(expected) &&
        JSON.stringify(decodeTensorBytes('BYTES', expected, values.length, bad)) === JSON.stringify(values)
      );
    }),
  );
});
