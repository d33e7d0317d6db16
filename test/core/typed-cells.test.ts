/**
 * Typed cells (Parquet, PostgreSQL: lib/io/table.ts) → tensor elements (lib/core/cells.ts): a number, a bigint or a
 * boolean is taken as it is, a null is what an empty CSV cell is; and, for every datatype and value, a typed cell
 * stores what its CSV text stores — a run on a table and on its CSV export agree.
 */
import t from 'tap';
import fc from 'fast-check';
import { cellText } from '../../lib/core/cell-text.js';
import { cellWriter } from '../../lib/core/cells.js';
import type { Datatype } from '../../lib/core/model-contract.js';
import type { TensorData } from '../../lib/core/tensor.js';
import type { Cell } from '../../lib/io/table.js';

const ARRAYS = {
  BOOL: Uint8Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  UINT8: Uint8Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as const;

function write(datatype: Datatype, cell: Cell | undefined): { result: number | string; stored: unknown } {
  const data: TensorData = datatype === 'BYTES' ? ['<'] : new ARRAYS[datatype as keyof typeof ARRAYS](1);
  const result = cellWriter(datatype)(cell, data, 0);
  return { result, stored: data[0] };
}

t.test('typed cells are taken as they are', async (t) => {
  t.same(write('INT64', 2n ** 62n), { result: 2 ** 62, stored: 2n ** 62n }, 'a bigint, exact');
  t.same(write('INT64', 7), { result: 7, stored: 7n });
  t.same(write('FP32', 0.1), { result: 0.1, stored: Math.fround(0.1) });
  t.same(write('FP64', 2n), { result: 2, stored: 2 });
  t.same(write('BOOL', true), { result: 1, stored: 1 });
  t.same(write('BOOL', 0), { result: 0, stored: 0 }, '0 and 1 are booleans too');
  t.same(
    write('BYTES', 42n),
    { result: Number.NaN, stored: '42' },
    'a BYTES input takes any cell as its text',
  );
});

t.test('a null is an empty cell; a value the type cannot hold is refused', async (t) => {
  t.ok(Number.isNaN(write('FP32', null).result), 'NaN for a float');
  t.equal(write('INT32', null).result, 'empty value');
  t.equal(write('BOOL', null).result, 'empty value');
  t.same(write('BYTES', null), { result: Number.NaN, stored: '' });
  t.equal(write('INT32', 2.5).result, 'not an integer: "2.5"');
  t.equal(write('INT64', true).result, 'not an integer: true');
  t.match(write('INT32', 2n ** 40n).result, /integer out of INT32 range/);
  t.match(write('UINT8', -1).result, /integer out of UINT8 range/);
  t.match(write('FP32', 1e300).result, /number out of FP32 range: "1e\+300"/);
  t.match(write('BOOL', 'maybe').result, /not a boolean/);
});

t.test('a typed cell stores what its CSV text stores', async (t) => {
  const datatypes: Datatype[] = ['INT32', 'INT64', 'FP32', 'FP64', 'FP16', 'BOOL', 'BYTES'];
  const cells = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.boolean(),
    fc.constant(null),
  );
  fc.assert(
    fc.property(fc.constantFrom(...datatypes), cells, (datatype, cell) => {
      const typed = write(datatype, cell);
      const text = write(datatype, cellText(cell));
      // Booleans as text are `true`/`false`, which a number input refuses: the typed path reads them as 1/0.
      if (typeof cell === 'boolean' && datatype !== 'BOOL' && datatype !== 'BYTES') return true;
      if (typeof typed.result === 'string') return typeof text.result === 'string';
      return Object.is(typed.stored, text.stored) || typed.stored === text.stored;
    }),
    // -0 always: its text once lost the sign (String(-0) is "0"), which FP16's bits keep.
    {
      numRuns: 2000,
      examples: [
        ['FP16', -0],
        ['FP32', -0],
        ['FP64', -0],
      ],
    },
  );
  t.pass('2000 cells agree');
  t.equal(cellText(-0), '-0');
});
