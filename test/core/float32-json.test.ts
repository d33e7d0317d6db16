/**
 * float32Json and float32JsonBytes write FP32 tensors as V2 JSON arrays for the server's answers and the
 * `v2-json` client's requests, through one scratch buffer: the text must be the definition's, each value must
 * read back to the same float32, and no call may see another's bytes.
 */
import t from 'tap';
import fc from 'fast-check';
import { float32Json, float32JsonBytes } from '../../lib/core/probability-text.js';

/** JSON.stringify's array, each finite value with the 9 digits that give back the float32. */
const definition = (values: Float32Array): string =>
  `[${Array.from(values, (v) => (Number.isFinite(v) ? String(Number(v.toPrecision(9))) : 'null')).join(',')}]`;

const float32Arrays = fc.float32Array({ maxLength: 300 });

t.test('float32Json is the definition, and reads back to the same float32 values', async (t) => {
  fc.assert(
    fc.property(float32Arrays, (values) => {
      const text = float32Json(values);
      if (text !== definition(values)) return false;
      const parsed = JSON.parse(text) as (number | null)[];
      return parsed.every(
        (v, i) => (v === null ? !Number.isFinite(values[i] as number) : Math.fround(v) === values[i]), // -0 is written 0, as JSON.stringify writes it
      );
    }),
    { numRuns: 2_000 },
  );
  t.equal(float32Json(new Float32Array(0)), '[]');
  t.equal(float32Json(Float32Array.of(NaN, Infinity, -Infinity, 0.6, -0)), '[null,null,null,0.600000024,0]');
});

t.test('float32JsonBytes is before, the array and after as UTF-8, in a buffer of its own', async (t) => {
  fc.assert(
    fc.property(fc.string(), float32Arrays, fc.string(), (before, values, after) =>
      float32JsonBytes(before, values, after).equals(Buffer.from(`${before}${definition(values)}${after}`)),
    ),
    { numRuns: 1_000 },
  );
  // With a row width: an array of rows, each the definition's array of its values.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), float32Arrays, (width, pool) => {
      const values = pool.subarray(0, pool.length - (pool.length % width));
      const rows = Array.from({ length: values.length / width }, (_, i) =>
        definition(values.subarray(i * width, (i + 1) * width)),
      );
      return float32JsonBytes('{"instances":', values, '}', width).equals(
        Buffer.from(`{"instances":[${rows.join(',')}]}`),
      );
    }),
    { numRuns: 1_000 },
  );
  const name = '{"inputs":[{"name":"température","data":';
  const first = float32JsonBytes(name, Float32Array.of(0.25, -3), '}]}');
  const copy = Buffer.from(first);
  // A far larger array grows the scratch; a later small one reuses it. Neither touches the first answer.
  const large = new Float32Array(200_000).map((_, i) => i / 7);
  t.equal(float32JsonBytes('', large, '').toString(), definition(large));
  t.equal(float32JsonBytes('x', Float32Array.of(3), 'y').toString(), 'x[3]y');
  t.same(first, copy, 'an earlier buffer is not overwritten');
  t.equal(first.toString(), `${name}[0.25,-3]}]}`);
  t.equal(float32Json(Float32Array.of(2.5)), '[2.5]', 'the string is laid out from the same scratch');
});
