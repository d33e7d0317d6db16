/**
 * The row helpers of lib/core/tensor.ts, for typed arrays of every datatype and for BYTES (string[]): rows are
 * compared with the rows picked out by hand (`rowsByHand`), not with the helpers' own output.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  allocateData,
  allocateTensor,
  concatRows,
  copyTensors,
  rowSize,
  rowsOf,
  selectRows,
  sliceRows,
  type Tensor,
  type TensorData,
} from '../../lib/core/tensor.js';
import type { Datatype } from '../../lib/core/model-contract.js';

const CONSTRUCTORS = {
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
const DATATYPES = [...(Object.keys(CONSTRUCTORS) as (keyof typeof CONSTRUCTORS)[]), 'BYTES'] as const;

/** Element i's value for a datatype: distinct per element, so a misplaced element shows. */
function element(datatype: Datatype, i: number): number | bigint | string {
  if (datatype === 'BYTES') return `s${i},"é"`;
  if (datatype === 'INT64' || datatype === 'UINT64') return BigInt(i) + 2n ** 40n;
  if (datatype === 'BOOL') return i % 2;
  if (datatype === 'INT8') return (i % 200) - 100;
  if (datatype === 'UINT8') return i % 256;
  if (datatype === 'FP32' || datatype === 'FP64') return i + 0.5;
  return i;
}

function dataOf(datatype: Datatype, values: readonly (number | bigint | string)[]): TensorData {
  if (datatype === 'BYTES') return values as string[];
  const C = CONSTRUCTORS[datatype];
  const typed = new C(values.length);
  values.forEach((v, i) => {
    (typed as unknown as (number | bigint)[])[i] = v as number | bigint;
  });
  return typed;
}

/** A tensor of `rows` rows of shape [rows, ...inner], element k = element(datatype, start + k). */
function tensor(name: string, datatype: Datatype, rows: number, inner: number[], start = 0): Tensor {
  const size = inner.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: rows * size }, (_, k) => element(datatype, start + k));
  return { name, datatype, shape: [rows, ...inner], data: dataOf(datatype, values) };
}

/** The tensor's rows as plain arrays of values, picked by hand from row-major data. */
function rowsByHand(t: Tensor): (number | bigint | string)[][] {
  const rows = t.shape[0] ?? 0;
  const size = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = t.data as ArrayLike<number | bigint | string>;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: size }, (_, j) => data[r * size + j] as number),
  );
}

t.test('rowsOf and rowSize', async (t) => {
  t.equal(rowsOf([]), 0);
  t.equal(rowsOf([tensor('a', 'FP32', 7, [3]), tensor('b', 'INT64', 7, [])]), 7);
  t.equal(rowSize({ shape: [5] }), 1, '[N] has one element per row');
  t.equal(rowSize({ shape: [5, 1] }), 1);
  t.equal(rowSize({ shape: [5, 4] }), 4);
  t.equal(rowSize({ shape: [5, 2, 3] }), 6);
  t.equal(rowSize({ shape: [0, 2, 3] }), 6, 'no rows, still 6 elements per row');
  t.equal(rowSize({ shape: [5, 0] }), 0);
});

t.test('allocateTensor: shape, type and zero (or empty-string) data for every datatype', async (t) => {
  for (const dt of DATATYPES) {
    const a = allocateTensor({ name: 'x', datatype: dt, shape: [-1, 2, 3] }, 4);
    t.same(a.shape, [4, 2, 3], `${dt} shape`);
    t.equal(a.name, 'x');
    t.equal(a.datatype, dt);
    t.equal(a.data.length, 24, `${dt} 24 elements`);
    if (dt === 'BYTES') {
      t.ok(Array.isArray(a.data) && a.data.every((s) => s === ''), 'BYTES: empty strings');
    } else {
      t.ok(a.data instanceof CONSTRUCTORS[dt], `${dt}: a ${CONSTRUCTORS[dt].name}`);
      t.ok(
        Array.from(a.data as ArrayLike<number | bigint>).every((v) => v === 0 || v === 0n),
        `${dt}: zeros`,
      );
    }
    const v = allocateTensor({ name: 'v', datatype: dt, shape: [-1, -1] }, 3, [5]);
    t.same(v.shape, [3, 5], `${dt}: a variable inner dim given`);
    t.equal(v.data.length, 15);
    t.same(allocateTensor({ name: 'z', datatype: dt, shape: [-1] }, 0).shape, [0]);
    t.equal(allocateTensor({ name: 'z', datatype: dt, shape: [-1] }, 0).data.length, 0);
  }
  t.equal(allocateData('FP64', 3).length, 3);
  // BYTES strings are distinct slots, not one shared array.
  const s = allocateData('BYTES', 2) as string[];
  s[0] = 'x';
  t.same(s, ['x', '']);
});

t.test('sliceRows: the rows asked for, views for typed arrays, copies for strings', async (t) => {
  for (const dt of DATATYPES) {
    const a = tensor('a', dt, 5, [3]);
    const b = tensor('b', dt, 5, [], 100);
    const [sa, sb] = sliceRows([a, b], 1, 3) as [Tensor, Tensor];
    t.same(sa.shape, [3, 3], `${dt} shape`);
    t.same(sb.shape, [3]);
    t.same(rowsByHand(sa), rowsByHand(a).slice(1, 4), `${dt} rows 1..3`);
    t.same(rowsByHand(sb), rowsByHand(b).slice(1, 4));
    t.equal(sa.name, 'a');
    t.equal(sa.datatype, dt);
    t.same(sliceRows([a], 5, 0)[0]?.shape, [0, 3], 'an empty slice at the end');
    t.equal(sliceRows([a], 5, 0)[0]?.data.length, 0);
    if (Array.isArray(sa.data)) {
      sa.data[0] = 'changed';
      t.not((a.data as string[])[3], 'changed', 'BYTES: a copy');
    } else {
      t.equal(sa.data.buffer, (a.data as Float32Array).buffer, `${dt}: a view of the same buffer`);
    }
  }
});

t.test('selectRows: the rows given, in the order given, repeats allowed', async (t) => {
  for (const dt of DATATYPES) {
    const a = tensor('a', dt, 6, [2, 2]);
    const b = tensor('b', dt, 6, [1], 50);
    const picks = [4, 0, 4, 5];
    const [pa, pb] = selectRows([a, b], picks) as [Tensor, Tensor];
    t.same(pa.shape, [4, 2, 2], `${dt} shape`);
    t.same(pb.shape, [4, 1]);
    const ra = rowsByHand(a);
    const rb = rowsByHand(b);
    t.same(
      rowsByHand(pa),
      picks.map((r) => ra[r]),
      `${dt} rows of a`,
    );
    t.same(
      rowsByHand(pb),
      picks.map((r) => rb[r]),
      `${dt} rows of b`,
    );
    t.same(selectRows([a], [])[0]?.shape, [0, 2, 2]);
    if (!Array.isArray(pa.data)) {
      t.not(pa.data.buffer, (a.data as Float32Array).buffer, `${dt}: new data`);
      t.ok(pa.data instanceof CONSTRUCTORS[dt as keyof typeof CONSTRUCTORS], 'same array type');
    } else {
      t.not(pa.data, a.data);
    }
  }
  // From a view (a slice of a larger tensor): rows relative to the view.
  const big = tensor('a', 'FP32', 10, [3]);
  const [view] = sliceRows([big], 4, 4) as [Tensor];
  t.same(rowsByHand(selectRows([view], [0, 3])[0] as Tensor), [rowsByHand(big)[4], rowsByHand(big)[7]]);
});

t.test('concatRows: sets in order, matched by name, first set’s order', async (t) => {
  t.same(concatRows([]), []);
  for (const dt of DATATYPES) {
    const s1 = [tensor('x', dt, 2, [3]), tensor('y', dt, 2, [], 500)];
    // The second set lists its tensors in another order: they are matched by name.
    const s2 = [tensor('y', dt, 3, [], 600), tensor('x', dt, 3, [3], 100)];
    const s3 = [tensor('x', dt, 0, [3]), tensor('y', dt, 0, [])];
    const [x, y] = concatRows([s1, s2, s3]) as [Tensor, Tensor];
    t.equal(x.name, 'x');
    t.equal(y.name, 'y');
    t.same(x.shape, [5, 3], `${dt} x shape`);
    t.same(y.shape, [5]);
    t.same(rowsByHand(x), [...rowsByHand(s1[0] as Tensor), ...rowsByHand(s2[1] as Tensor)], `${dt} x rows`);
    t.same(rowsByHand(y), [...rowsByHand(s1[1] as Tensor), ...rowsByHand(s2[0] as Tensor)], `${dt} y rows`);
    if (!Array.isArray(x.data)) t.ok(x.data instanceof CONSTRUCTORS[dt as keyof typeof CONSTRUCTORS]);
    const [only] = concatRows([s1]) as [Tensor];
    t.same(rowsByHand(only), rowsByHand(s1[0] as Tensor), 'one set: its tensors');
  }
});

t.test('copyTensors: same values, buffers of its own', async (t) => {
  for (const dt of DATATYPES) {
    const big = tensor('a', dt, 6, [2]);
    const [view] = sliceRows([big], 2, 3) as [Tensor];
    const [copy] = copyTensors([view]) as [Tensor];
    t.same(copy.shape, [3, 2]);
    t.not(copy.shape, view.shape, 'shape copied');
    t.same(rowsByHand(copy), rowsByHand(big).slice(2, 5), `${dt} values`);
    if (Array.isArray(copy.data)) {
      t.not(copy.data, view.data);
    } else {
      t.not(copy.data.buffer, (big.data as Float32Array).buffer, `${dt}: own buffer`);
      t.equal(copy.data.byteOffset, 0);
      t.equal(copy.data.buffer.byteLength, copy.data.byteLength, 'the buffer holds just its data');
    }
  }
});

const datatype = fc.constantFrom(...DATATYPES);

t.test('properties: concat of slices is the original; select is a manual pick (fast-check)', async () => {
  fc.assert(
    fc.property(
      datatype,
      fc.integer({ min: 0, max: 12 }),
      fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 5 }),
      (dt, rows, inner, cuts) => {
        const a = tensor('a', dt, rows, inner);
        const b = tensor('b', dt, rows, [2], 1000);
        const bounds = [0, ...cuts.map((c) => Math.min(c, rows)).sort((p, q) => p - q), rows];
        const slices = bounds
          .slice(1)
          .map((end, i) => sliceRows([a, b], bounds[i] as number, end - (bounds[i] as number)));
        const [ca, cb] = concatRows(slices) as [Tensor, Tensor];
        return (
          JSON.stringify(ca.shape) === JSON.stringify(a.shape) &&
          sameRows(rowsByHand(ca), rowsByHand(a)) &&
          sameRows(rowsByHand(cb), rowsByHand(b))
        );
      },
    ),
  );
  fc.assert(
    fc.property(
      datatype,
      fc
        .integer({ min: 1, max: 10 })
        .chain((rows) =>
          fc.tuple(fc.constant(rows), fc.array(fc.integer({ min: 0, max: rows - 1 }), { maxLength: 15 })),
        ),
      fc.integer({ min: 1, max: 4 }),
      (dt, [rows, picks], width) => {
        const a = tensor('a', dt, rows, [width]);
        const [p] = selectRows([a], picks) as [Tensor];
        const all = rowsByHand(a);
        return (
          p.shape[0] === picks.length &&
          sameRows(
            rowsByHand(p),
            picks.map((r) => all[r] as (number | bigint | string)[]),
          )
        );
      },
    ),
  );
});

function sameRows(a: unknown[][], b: unknown[][]): boolean {
  return (
    a.length === b.length &&
    a.every((row, i) => row.length === b[i]?.length && row.every((v, j) => v === b[i]?.[j]))
  );
}
