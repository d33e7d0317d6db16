import t from 'tap';
import { OutputRows } from '../../lib/core/output-rows.js';
import type { OutputPlan } from '../../lib/core/output-plan.js';
import { toHalfBits } from '../../lib/core/fp16.js';
import type { Cell, Column, ColumnBatch } from '../../lib/io/table.js';
import type { ScoredBatch } from '../../lib/types.js';

const INPUT: Column[] = [
  { name: 'id', type: 'int64' },
  { name: 'city', type: 'string' },
  { name: 'x', type: 'float64' },
];

/** A classifier (labels a, b, c) with BOOL, FP16 [N, 2] and UINT32 outputs besides, over three rows. */
function scored(label: boolean): { plan: OutputPlan; batch: ScoredBatch } {
  const plan: OutputPlan = {
    outputs: ['probabilities', ...(label ? ['label'] : []), 'flag', 'half', 'count'],
    classifier: {
      probabilities: 'probabilities',
      label: label ? 'label' : undefined,
      labels: ['a', 'b', 'c'],
    },
    plain: [
      { name: 'flag', columns: ['flag'], datatype: 'BOOL' },
      { name: 'half', columns: ['half_0', 'half_1'], datatype: 'FP16' },
      { name: 'count', columns: ['count'], datatype: 'UINT32' },
    ],
    columns: [],
  };
  const batch: ScoredBatch = {
    index: 0,
    rows: [
      { line: 2, row: 1, values: [1n, 'Oslo', 0.5] },
      { line: 3, row: 2, values: [2n, null, -0] },
      { line: 5, row: 4, values: [3n, 'Lima', Number.NaN] },
    ],
    inputs: [],
    probabilities: Float32Array.of(0.1, 0.7, 0.2, 0.5, 0.25, 0.25, 0, 0.4, 0.6),
    outputs: [
      ...(label ? [{ name: 'label', datatype: 'BYTES' as const, shape: [3], data: ['B', 'A', 'C'] }] : []),
      { name: 'flag', datatype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
      {
        name: 'half',
        datatype: 'FP16',
        shape: [3, 2],
        data: Uint16Array.from([0.5, -2, 1, 0, -0, 65504], toHalfBits),
      },
      { name: 'count', datatype: 'UINT32', shape: [3], data: Uint32Array.of(0, 7, 4294967295) },
    ],
  };
  return { plan, batch };
}

/** A column batch's rows, cell by cell. */
function rowsOf(batch: ColumnBatch): Cell[][] {
  return Array.from({ length: batch.length }, (_, i) => batch.cells.map((column) => column[i] as Cell));
}

t.test('column batches hold the same cells as row batches, with and without kept columns', async (t) => {
  for (const label of [false, true])
    for (const keep of [undefined, ['x', 'id']]) {
      const { plan, batch } = scored(label);
      const output = new OutputRows(plan, keep);
      const columns = output.columns(INPUT);
      const rows = output.batch(batch);
      const byColumns = output.columnBatch(batch);
      const what = `label output ${label}, keep ${String(keep)}`;
      t.equal(byColumns.columns, columns, `${what}: the same columns array`);
      t.equal(byColumns.cells.length, columns.length, `${what}: a column of cells per column`);
      t.strictSame(rowsOf(byColumns), rows.rows, what);
      t.ok(
        byColumns.cells.filter((c) => c instanceof Float32Array).length === 3,
        `${what}: each probability a Float32Array`,
      );
    }
  const { plan, batch } = scored(false);
  const output = new OutputRows(plan, ['city']);
  t.same(
    output.columns(INPUT).map((c) => [c.name, c.type, c.required === true]),
    [
      ['city', 'string', false],
      ['prediction', 'string', true],
      ['probability_a', 'float32', true],
      ['probability_b', 'float32', true],
      ['probability_c', 'float32', true],
      ['flag', 'boolean', true],
      ['half_0', 'float32', true],
      ['half_1', 'float32', true],
      ['count', 'int64', true],
    ],
    'outputs are required, input columns keep their source types',
  );
  t.strictSame(rowsOf(output.columnBatch(batch)), [
    ['Oslo', 'b', 0.10000000149011612, 0.699999988079071, 0.20000000298023224, true, 0.5, -2, 0n],
    [null, 'a', 0.5, 0.25, 0.25, false, 1, 0, 7n],
    ['Lima', 'c', 0, 0.4000000059604645, 0.6000000238418579, true, -0, 65504, 4294967295n],
  ]);
  const empty = output.columnBatch({
    ...batch,
    rows: [],
    probabilities: new Float32Array(0),
    outputs: batch.outputs.map((o) => ({ ...o, shape: [0, ...o.shape.slice(1)], data: o.data.slice(0, 0) })),
  });
  t.equal(empty.length, 0);
  t.same(
    empty.cells.map((c) => c.length),
    Array.from({ length: 9 }, () => 0),
    'an empty batch: every column empty',
  );
});
