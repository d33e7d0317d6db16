import t from 'tap';
import { Readable } from 'node:stream';
import { computeFeatures, type FeatureSpec } from '../../lib/core/features.js';
import { planInputs } from '../../lib/core/input-plan.js';
import type { ModelContract } from '../../lib/core/model-contract.js';
import { Preprocessor } from '../../lib/streams/preprocessor.js';
import type { FeaturizedRow, RejectedRow, SourceRecord } from '../../lib/types.js';

const specs: FeatureSpec[] = [
  {
    name: 'precipitation',
    column: 'precipitation',
    transform: { type: 'number' },
    standardize: { mean: 3, std: 6.3 },
  },
  {
    name: 'doy_sin',
    column: 'date',
    transform: { type: 'day_of_year', fn: 'sin', period: 365.25 },
    standardize: { mean: 0, std: 0.7 },
  },
  { name: 'wind', column: 'wind', transform: { type: 'number' }, standardize: { mean: 3, std: 1.5 } },
];
const header = ['location', 'date', 'precipitation', 'wind'];
/** A model of one FP32 input built from `specs`, as weather's. */
const contract: ModelContract = {
  format: 1,
  name: 'm',
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, specs.length] }],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
  labels: ['no', 'yes'],
  features: specs,
};

async function run(
  records: SourceRecord[],
  options: { skipRows?: number; raw?: boolean } = {},
): Promise<{ prepared: FeaturizedRow[]; rejected: RejectedRow[]; raws: number[][] }> {
  const rejected: RejectedRow[] = [];
  const raws: number[][] = [];
  const preprocessor = new Preprocessor({
    plan: planInputs(contract),
    onReject: (row) => rejected.push(row),
    ...(options.raw === false ? {} : { onRaw: (raw: Float64Array) => raws.push([...raw]) }),
    ...(options.skipRows === undefined ? {} : { skipRows: options.skipRows }),
  });
  const prepared: FeaturizedRow[] = [];
  for await (const row of Readable.from([{ line: 1, values: header }, ...records]).pipe(preprocessor))
    prepared.push(row as FeaturizedRow);
  return { prepared, rejected, raws };
}

t.test('prepared rows carry the features computeFeatures gives, and their line, row and file', async (t) => {
  const values = ['Seattle', '2012-03-21', '1.5', '4.2'];
  const { prepared, rejected, raws } = await run([
    { line: 2, values },
    { line: 4, values: ['Seattle', '2012-03-22T10:00', ' 0 ', '1e1'], file: 'b.csv' },
  ]);
  t.same(rejected, []);
  const expected = computeFeatures(specs, { date: '2012-03-21', precipitation: '1.5', wind: '4.2' });
  if (!expected.ok) throw new Error(expected.reason);
  t.same(prepared[0], {
    line: 2,
    values,
    inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: expected.features }],
    row: 1,
  });
  t.notOk('file' in (prepared[0] as FeaturizedRow), 'no file key when the record has none');
  t.same(raws[0], [...expected.raw]);
  t.match(prepared[1], { line: 4, row: 2, file: 'b.csv' });
  t.same(raws[1]?.slice(0, 1), [0]);
  t.equal(raws[1]?.[2], 10);
});

t.test('rejects: the reason of the first bad value, every raw value with NaN gaps', async (t) => {
  const { prepared, rejected, raws } = await run([
    { line: 2, values: ['Seattle', '2013-02-29', 'wet', '4.2'] },
    { line: 3, values: ['Seattle', '2012-03-21', '1'] },
    {
      line: 5,
      values: ['x'],
      error: 'malformed CSV: a quote inside unquoted field 1 (location)',
      file: 'a.csv',
    },
    { line: 6, values: ['Seattle', '2012-03-21', '', '4.2'] },
  ]);
  t.same(prepared, []);
  t.same(
    rejected.map((r) => [r.line, r.row, r.error, r.file]),
    [
      [2, 1, 'column "precipitation": not a number: "wet"', undefined],
      [3, 2, 'expected 4 fields, got 3', undefined],
      [5, 3, 'malformed CSV: a quote inside unquoted field 1 (location)', 'a.csv'],
      [6, 4, 'column "precipitation": empty value', undefined],
    ],
  );
  // Only rows whose values were read reach onRaw: not the short one, not the source's reject.
  t.equal(raws.length, 2);
  t.ok(Number.isNaN(raws[0]?.[0]) && Number.isNaN(raws[0]?.[1]));
  t.equal(raws[0]?.[2], 4.2);
  t.ok(Number.isNaN(raws[1]?.[0]));
  t.ok(Number.isFinite(raws[1]?.[1]));
});

t.test('without onRaw, and with skipRows, rows come out the same', async (t) => {
  const records = [1, 2, 3].map((n) => ({ line: n + 1, values: ['Seattle', `2012-03-0${n}`, `${n}`, '1'] }));
  const all = await run(records);
  const quiet = await run(records, { raw: false });
  t.same(quiet.prepared, all.prepared);
  const skipped = await run(records, { skipRows: 2 });
  t.same(skipped.prepared, all.prepared.slice(2));
  t.equal(skipped.raws.length, 1);
});
