/**
 * The record batcher must decide exactly as the Preprocessor → Batcher chain it replaces for record sources
 * (Parquet, PostgreSQL, JSON Lines, several files): same batches (index, rows with their lines, row numbers,
 * values and files, features), same rejects and reasons, same raw values for the profiles, same columns and
 * counts, same errors. Property-based over typed and untyped records, with rows of the wrong width, records
 * that carry a reader's error, and every kind of cell.
 */
import t from 'tap';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { planInputs } from '../../lib/core/input-plan.js';
import type { Cell, Column } from '../../lib/io/table.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../../lib/model-files.js';
import { Batcher } from '../../lib/streams/batcher.js';
import { Preprocessor } from '../../lib/streams/preprocessor.js';
import { RecordBatcher } from '../../lib/streams/record-batcher.js';
import type { Batch, RejectedRow, SourceRecord } from '../../lib/types.js';

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const plan = planInputs(contract);

const COLUMNS: Column[] = [
  { name: 'location', type: 'string' },
  { name: 'date', type: 'string' },
  { name: 'precipitation', type: 'float64' },
  { name: 'temp_max', type: 'float64' },
  { name: 'temp_min', type: 'float32' },
  { name: 'wind', type: 'int32' },
  { name: 'weather', type: 'string' },
];

async function run(records: SourceRecord[], fused: boolean, batchSize: number, skipRows: number) {
  const rejects: RejectedRow[] = [];
  const raws: number[][] = [];
  const options = {
    plan,
    onReject: (row: RejectedRow) => rejects.push(row),
    onRaw: (raw: Float64Array) => raws.push([...raw]),
    skipRows,
  };
  const batches: unknown[] = [];
  const collect = async (source: AsyncIterable<Batch>) => {
    for await (const batch of source)
      batches.push({
        index: batch.index,
        inputs: batch.inputs.map((i) => ({ ...i, data: [...i.data] })),
        rows: batch.rows.map((r) => ({ line: r.line, values: r.values, row: r.row, file: r.file })),
      });
  };
  let error: string | undefined;
  const batcher = new RecordBatcher({ ...options, batchSize });
  const preprocessor = new Preprocessor(options);
  const stage = fused ? batcher.rows : preprocessor;
  const input = () => Readable.from(records.map((r) => ({ ...r })));
  try {
    if (fused) await pipeline(input(), batcher, collect);
    else await pipeline(input(), preprocessor, new Batcher({ batchSize }), collect);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    error = `${e.code ?? ''} ${e.message ?? ''}`;
  }
  return {
    batches,
    rejects,
    raws,
    columns: stage.columns,
    columnTypes: stage.columnTypes,
    counts: { ...stage.counts },
    error,
  };
}

const cell: fc.Arbitrary<Cell> = fc.oneof(
  fc.constantFrom<Cell>(null, '', 'x', '3.5', ' 7 ', 'NaN', '2012-01-01', '2014-02-30', 'soon', true, false),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const goodRow = fc.tuple(
  fc.constantFrom<Cell>('Seattle', 'São Paulo', null),
  fc.constantFrom<Cell>('2012-01-01', '2015-07-14', '2014-02-30', null, 20120101),
  fc.oneof(fc.double({ min: -5, max: 60, noNaN: true }), cell),
  fc.oneof(fc.double({ min: -10, max: 40 }), cell),
  fc.oneof(fc.float({ min: -20, max: 30 }), cell),
  fc.oneof(fc.integer({ min: 0, max: 12 }), cell),
  fc.constantFrom<Cell>('rain', 'sun', null),
);
const record = fc.oneof(
  { weight: 8, arbitrary: goodRow.map((values) => ({ values: values })) },
  { weight: 1, arbitrary: fc.array(cell, { maxLength: 9 }).map((values) => ({ values })) },
  { weight: 1, arbitrary: goodRow.map((values) => ({ values: values, error: 'bad bytes' })) },
);

const input = fc.record({
  header: fc.constantFrom('typed', 'typed', 'untyped', 'missing'),
  rows: fc.array(record, { maxLength: 40 }),
  files: fc.boolean(),
  batchSize: fc.integer({ min: 1, max: 7 }),
  skipRows: fc.constantFrom(0, 0, 0, 2),
});

function recordsOf(d: typeof input extends fc.Arbitrary<infer T> ? T : never): SourceRecord[] {
  const names = COLUMNS.map((c) => c.name);
  const header: SourceRecord =
    d.header === 'typed'
      ? { line: 0, values: names, columns: COLUMNS }
      : { line: 0, values: d.header === 'untyped' ? names : names.filter((n) => n !== 'wind') };
  const rows = d.rows.map((r, i) => ({
    line: i + 1,
    ...r,
    ...(d.files ? { file: i % 3 === 0 ? 'a.parquet' : 'b.parquet' } : {}),
  }));
  return [header, ...rows];
}

t.test('decides every record as the Preprocessor → Batcher chain does', async (t) => {
  await fc.assert(
    fc.asyncProperty(input, async (d) => {
      const records = recordsOf(d);
      const fused = await run(records, true, d.batchSize, d.skipRows);
      const chain = await run(records, false, d.batchSize, d.skipRows);
      t.strictSame(fused, chain);
      return true;
    }),
    { numRuns: 300, seed: 20261207 },
  );
});

t.test('typed cells reach the features; the header missing a column fails the run', async (t) => {
  const records = recordsOf({
    header: 'typed',
    rows: [{ values: ['Seattle', '2012-01-01', 0.5, 12.5, 4, 3, 'rain'] }, { values: ['x'] }],
    files: false,
    batchSize: 4,
    skipRows: 0,
  });
  const outcome = await run(records, true, 4, 0);
  t.equal(outcome.batches.length, 1);
  t.same(outcome.counts, { read: 2, prepared: 1, rejected: 1 });
  t.match(outcome.rejects[0]?.error, /expected 7 fields, got 1/);
  t.same(outcome.columnTypes, COLUMNS);
  const missing = await run(
    recordsOf({ header: 'missing', rows: [], files: false, batchSize: 4, skipRows: 0 }),
    true,
    4,
    0,
  );
  t.match(missing.error, /BI_ERR_MISSING_COLUMN .*wind/);
});
