/**
 * Column → input mapping (lib/core/input-plan.ts): which plan a contract gets, the tensors and columns it names,
 * and what its row writer puts where. Expected values are computed here from the mapping's definition (DESIGN.md,
 * "Column → input mapping"): the feature spec's standardization and day-of-year transform written out, cells
 * parsed by hand.
 */
import t from 'tap';
import fc from 'fast-check';
import { planInputs, type InputPlan } from '../../lib/core/input-plan.js';
import type { ModelContract, TensorSpec } from '../../lib/core/model-contract.js';
import type { FeatureSpec } from '../../lib/core/features.js';
import type { Tensor } from '../../lib/core/tensor.js';

function contract(inputs: TensorSpec[], features: FeatureSpec[] = []): ModelContract {
  return {
    format: 1,
    name: 'm',
    platform: 'onnxruntime_onnx',
    inputs,
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    labels: [],
    features,
  };
}

const CONTRACT_ERROR = { code: 'BI_ERR_MODEL_CONTRACT' };

/** Writes one row (values in `columns` order) at `row` of a batch of `rows`; returns the reason, raw and tensors. */
function writeRow(
  plan: InputPlan,
  columns: string[],
  values: (string | undefined)[],
  row = 0,
  rows = 1,
): { reason: string | undefined; raw: number[]; tensors: Tensor[] } {
  const tensors = plan.allocate(rows);
  const raw = new Float64Array(plan.monitored.length).fill(-12345);
  const reason = plan.bind(columns)(values, raw, tensors, row);
  return { reason, raw: Array.from(raw), tensors };
}

const nanAt = (raw: number[], i: number): boolean => Number.isNaN(raw[i]);

t.test('a feature spec with transforms: one FP32 [N, K] input through the DSL', async (t) => {
  const features: FeatureSpec[] = [
    { name: 'precip', column: 'precipitation', standardize: { mean: 3, std: 2 } },
    { name: 'doy_sin', column: 'date', transform: { type: 'day_of_year', fn: 'sin', period: 365.25 } },
    { name: 'doy_cos', column: 'date', transform: { type: 'day_of_year', fn: 'cos', period: 365.25 } },
    { name: 'wind', column: 'wind', transform: { type: 'number' } },
  ];
  const plan = planInputs(contract([{ name: 'features', datatype: 'FP32', shape: [-1, 4] }], features));
  t.same(plan.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }]);
  t.same(plan.columns, ['precipitation', 'date', 'wind'], 'each column once, in first-use order');
  t.same(plan.monitored, [
    { name: 'precip', column: 'precipitation' },
    { name: 'doy_sin', column: 'date' },
    { name: 'doy_cos', column: 'date' },
    { name: 'wind', column: 'wind' },
  ]);
  t.equal(plan.fixedBatch, undefined);
  const columns = ['wind', 'other', 'date', 'precipitation'];
  // 2012-03-01: day 31 + 29 + 1 = 61 of a leap year.
  const angle = (2 * Math.PI * 61) / 365.25;
  const { reason, raw, tensors } = writeRow(plan, columns, ['4.5', 'zzz', '2012-03-01', '7'], 2, 3);
  t.equal(reason, undefined);
  t.same(raw, [7, Math.sin(angle), Math.cos(angle), 4.5], 'raw values before standardization');
  const data = (tensors[0] as Tensor).data as Float32Array;
  t.ok(data instanceof Float32Array);
  t.same(tensors[0]?.shape, [3, 4]);
  t.same(Array.from(data.subarray(8)), [2, Math.sin(angle), Math.cos(angle), 4.5].map(Math.fround));
  t.same(Array.from(data.subarray(0, 8)), [0, 0, 0, 0, 0, 0, 0, 0], 'other rows untouched');

  const bad = writeRow(plan, columns, ['x', 'zzz', '2012-02-30', ''], 0, 1);
  t.equal(bad.reason, 'column "precipitation": empty value', 'the first bad feature’s reason');
  t.equal(
    writeRow(plan, columns, ['x', 'zzz', '2012-02-30', '1'], 0, 1).reason,
    'column "date": impossible date: "2012-02-30"',
  );
  t.ok(nanAt(bad.raw, 0) && nanAt(bad.raw, 1) && nanAt(bad.raw, 2) && nanAt(bad.raw, 3));
});

t.test('a feature spec with transforms needs an FP32 input', async (t) => {
  const features: FeatureSpec[] = [
    { name: 'a', column: 'a', standardize: { mean: 0, std: 1 } },
    { name: 'b', column: 'b' },
  ];
  t.throws(() => planInputs(contract([{ name: 'x', datatype: 'FP64', shape: [-1, 2] }], features)), {
    ...CONTRACT_ERROR,
    message: /transforms needs an FP32 input; x is FP64/,
  });
});

t.test('a plain feature spec: one [N, K] input of any datatype, cell by cell', async (t) => {
  const features: FeatureSpec[] = [
    { name: 'first', column: 'a' },
    { name: 'second', column: 'b', transform: { type: 'number' } },
    { name: 'again', column: 'a' },
  ];
  const plan = planInputs(contract([{ name: 'x', datatype: 'INT64', shape: [-1, 3] }], features));
  t.same(plan.inputs, [{ name: 'x', datatype: 'INT64', shape: [-1, 3] }]);
  t.same(plan.columns, ['a', 'b']);
  t.same(plan.monitored, [
    { name: 'first', column: 'a' },
    { name: 'second', column: 'b' },
    { name: 'again', column: 'a' },
  ]);
  const { reason, raw, tensors } = writeRow(plan, ['b', 'a'], ['-4', '9223372036854775807'], 1, 2);
  t.equal(reason, undefined);
  const data = tensors[0]?.data as BigInt64Array;
  t.ok(data instanceof BigInt64Array);
  t.same(Array.from(data), [0n, 0n, 0n, 9223372036854775807n, -4n, 9223372036854775807n]);
  t.same(raw, [2 ** 63, -4, 2 ** 63]);
  const bad = writeRow(plan, ['b', 'a'], ['1.5', '2']);
  t.equal(bad.reason, 'column "b": not an integer: "1.5"');
  t.same(
    bad.raw.map((v) => (Number.isNaN(v) ? 'NaN' : v)),
    [2, 'NaN', 2],
  );
});

t.test('the features option: one [N, K] input of any datatype from K columns', async (t) => {
  for (const datatype of ['FP32', 'FP64', 'INT32', 'UINT8', 'BOOL', 'FP16'] as const) {
    const plan = planInputs(contract([{ name: 'x', datatype, shape: [-1, -1] }]), ['c', 'a', 'b']);
    t.same(plan.inputs, [{ name: 'x', datatype, shape: [-1, 3] }], `${datatype}: the width is the option's`);
    t.same(plan.columns, ['c', 'a', 'b']);
    t.same(plan.monitored, [
      { name: 'c', column: 'c' },
      { name: 'a', column: 'a' },
      { name: 'b', column: 'b' },
    ]);
    const { reason, raw, tensors } = writeRow(plan, ['a', 'b', 'c'], ['1', '0', '1'], 1, 2);
    t.equal(reason, undefined);
    const expected = datatype === 'FP16' ? [0, 0, 0, 0x3c00, 0x3c00, 0] : [0, 0, 0, 1, 1, 0];
    t.same(Array.from(tensors[0]?.data as Float32Array), expected, `${datatype}: c, a, b at row 1`);
    t.same(raw, [1, 1, 0]);
  }
  // A fixed width that matches; [N] takes one column.
  const fixed = planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]), ['p', 'q']);
  t.same(fixed.inputs[0]?.shape, [-1, 2]);
  const flat = planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1] }]), ['p']);
  t.same(flat.inputs[0]?.shape, [-1]);
  t.same(Array.from(writeRow(flat, ['p'], ['2.5'], 1, 2).tensors[0]?.data as Float32Array), [0, 2.5]);
});

t.test('the features option: refusals', async (t) => {
  t.throws(
    () =>
      planInputs(
        contract(
          [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
          [
            { name: 'a', column: 'a' },
            { name: 'b', column: 'b' },
          ],
        ),
        ['a', 'b'],
      ),
    {
      ...CONTRACT_ERROR,
      message: /builds input "x" from 2 features; the `features` option cannot replace them/,
    },
    'a model with a feature spec',
  );
  t.throws(() => planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1, 3] }]), ['a', 'b']), {
    ...CONTRACT_ERROR,
    message: /names 2 column\(s\) for one input of shape \[-1, 2\], but the model takes x \[-1,3\]/,
  });
  t.throws(
    () => planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1] }]), ['a', 'b']),
    CONTRACT_ERROR,
  );
  t.throws(
    () => planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1, 2, 2] }]), ['a', 'b', 'c', 'd']),
    CONTRACT_ERROR,
    'rank 3',
  );
  t.throws(
    () =>
      planInputs(
        contract([
          { name: 'x', datatype: 'FP32', shape: [-1, 2] },
          { name: 'z', datatype: 'FP32', shape: [-1, 1] },
        ]),
        ['a', 'b'],
      ),
    { ...CONTRACT_ERROR, message: /x \[-1,2\], z \[-1,1\]/ },
    'several inputs',
  );
});

t.test('by default each input reads its own column, an [N, K] one among several <name>_<j>', async (t) => {
  const plan = planInputs(
    contract([
      { name: 'x', datatype: 'FP32', shape: [-1, 3] },
      { name: 'flag', datatype: 'INT64', shape: [-1, 1] },
      { name: 'sex', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'w', datatype: 'FP64', shape: [-1] },
      { name: 'ok', datatype: 'BOOL', shape: [-1, 1] },
    ]),
  );
  t.same(plan.inputs, [
    { name: 'x', datatype: 'FP32', shape: [-1, 3] },
    { name: 'flag', datatype: 'INT64', shape: [-1, 1] },
    { name: 'sex', datatype: 'BYTES', shape: [-1, 1] },
    { name: 'w', datatype: 'FP64', shape: [-1] },
    { name: 'ok', datatype: 'BOOL', shape: [-1, 1] },
  ]);
  t.same(plan.columns, ['x_0', 'x_1', 'x_2', 'flag', 'sex', 'w', 'ok']);
  t.same(
    plan.monitored,
    ['x_0', 'x_1', 'x_2', 'flag', 'w', 'ok'].map((c) => ({ name: c, column: c })),
    'BYTES is not monitored',
  );
  const columns = ['ok', 'sex', 'w', 'flag', 'x_2', 'x_1', 'x_0', 'extra'];
  const { reason, raw, tensors } = writeRow(
    plan,
    columns,
    ['TRUE', 'female', '0.1', '3.0', '3', '2', '1', '?'],
    1,
    2,
  );
  t.equal(reason, undefined);
  const [x, flag, sex, w, ok] = tensors as [Tensor, Tensor, Tensor, Tensor, Tensor];
  t.same(x.shape, [2, 3]);
  t.same(Array.from(x.data as Float32Array), [0, 0, 0, 1, 2, 3]);
  t.same(Array.from(flag.data as BigInt64Array), [0n, 3n]);
  t.same(sex.data, ['', 'female']);
  t.same(w.shape, [2]);
  t.same(Array.from(w.data as Float64Array), [0, 0.1]);
  t.same(Array.from(ok.data as Uint8Array), [0, 1]);
  t.same(raw, [1, 2, 3, 3, 0.1, 1]);
});

t.test('the row writer: NaN raw values for bad cells, the first bad column’s reason', async (t) => {
  const plan = planInputs(
    contract([
      { name: 'a', datatype: 'FP32', shape: [-1, 1] },
      { name: 'b', datatype: 'INT32', shape: [-1, 1] },
      { name: 'c', datatype: 'FP32', shape: [-1, 1] },
      { name: 's', datatype: 'BYTES', shape: [-1] },
    ]),
  );
  const columns = ['c', 'b', 'a', 's'];
  // An empty float is NaN (imputed by the model), not a bad cell.
  const empty = writeRow(plan, columns, ['', '1', '2', 'x']);
  t.equal(empty.reason, undefined);
  t.ok(nanAt(empty.raw, 2), 'empty float: raw NaN');
  t.ok(Number.isNaN((empty.tensors[2]?.data as Float32Array)[0]), 'and NaN in the tensor');
  t.same(empty.raw.slice(0, 2), [2, 1]);

  const twoBad = writeRow(plan, columns, ['abc', '1.5', '2', 'x']);
  t.equal(twoBad.reason, 'column "b": not an integer: "1.5"', 'b comes before c in the plan');
  t.ok(nanAt(twoBad.raw, 1) && nanAt(twoBad.raw, 2), 'both bad cells NaN');
  t.equal(twoBad.raw[0], 2, 'the good cell keeps its value');

  // A column the input lacks: a missing value.
  const lacking = planInputs(contract([{ name: 'a', datatype: 'FP32', shape: [-1, 1] }]));
  const missing = writeRow(lacking, ['zzz'], ['1']);
  t.equal(missing.reason, 'column "a": missing value');
  t.ok(nanAt(missing.raw, 0));
  // A short record: the value is undefined.
  t.equal(writeRow(lacking, ['zzz', 'a'], ['1']).reason, 'column "a": missing value');
});

t.test('rows land at their row (fast-check)', async () => {
  const plan = planInputs(
    contract([
      { name: 'v', datatype: 'FP64', shape: [-1, 2] },
      { name: 'n', datatype: 'INT16', shape: [-1, 1] },
    ]),
  );
  const bind = plan.bind(['n', 'v_1', 'v_0']);
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer({ min: -32768, max: 32767 }),
        ),
        { minLength: 1, maxLength: 10 },
      ),
      (rows) => {
        const tensors = plan.allocate(rows.length);
        const raw = new Float64Array(3);
        // Written in reverse order: each row at its own place.
        for (let r = rows.length - 1; r >= 0; r--) {
          const [a, b, n] = rows[r] as [number, number, number];
          if (bind([String(n), String(b), String(a)], raw, tensors, r) !== undefined) return false;
          if (raw[0] !== a || raw[1] !== b || raw[2] !== n) return false;
        }
        const v = Array.from(tensors[0]?.data as Float64Array);
        const n = Array.from(tensors[1]?.data as Int16Array);
        return (
          JSON.stringify(v) === JSON.stringify(rows.flatMap(([a, b]) => [a, b])) &&
          JSON.stringify(n) === JSON.stringify(rows.map(([, , k]) => k))
        );
      },
    ),
  );
});

t.test('variable or unreadable widths are refused with a way out', async (t) => {
  t.throws(() => planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1, -1] }])), {
    ...CONTRACT_ERROR,
    message:
      /input "x" of shape \[-1,-1\] takes a variable number of columns per row: name them in order with `--features/,
  });
  t.throws(
    () =>
      planInputs(
        contract([
          { name: 'x', datatype: 'FP32', shape: [-1, -1] },
          { name: 'y', datatype: 'FP32', shape: [-1, 1] },
        ]),
      ),
    { ...CONTRACT_ERROR, message: /input "x" of shape \[-1,-1\] cannot be read from CSV columns/ },
  );
  t.throws(() => planInputs(contract([{ name: 'img', datatype: 'FP32', shape: [-1, 2, 2] }])), {
    ...CONTRACT_ERROR,
    message: /input "img" of shape \[-1,2,2\] cannot be read from CSV columns/,
  });
});

t.test('a scalar (rank 0) input is refused: it has no batch dim to put rows on', async (t) => {
  t.throws(() => planInputs(contract([{ name: 's', datatype: 'FP32', shape: [] }])), {
    ...CONTRACT_ERROR,
    message: /input "s" of shape \[\] cannot be read from CSV columns/,
  });
  t.throws(() => planInputs(contract([{ name: 's', datatype: 'FP32', shape: [] }]), ['a']), CONTRACT_ERROR);
});

t.test('fixedBatch: the inputs’ fixed first dim; inputs disagreeing on it are refused', async (t) => {
  const fixed = planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [1, 2] }]));
  t.equal(fixed.fixedBatch, 1);
  t.same(fixed.columns, ['x_0', 'x_1']);
  t.same(fixed.inputs, [{ name: 'x', datatype: 'FP32', shape: [1, 2] }]);
  const { tensors } = writeRow(fixed, ['x_0', 'x_1'], ['0.5', '-1']);
  t.same(tensors[0]?.shape, [1, 2]);
  t.same(Array.from(tensors[0]?.data as Float32Array), [0.5, -1]);
  t.equal(
    planInputs(
      contract([
        { name: 'a', datatype: 'FP32', shape: [4, 1] },
        { name: 'b', datatype: 'FP32', shape: [4] },
      ]),
    ).fixedBatch,
    4,
  );
  t.equal(planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [-1, 2] }])).fixedBatch, undefined);
  t.equal(planInputs(contract([{ name: 'x', datatype: 'FP32', shape: [1, 2] }]), ['p', 'q']).fixedBatch, 1);
  for (const [a, b] of [
    [1, -1],
    [-1, 1],
    [2, 3],
  ] as const) {
    t.throws(
      () =>
        planInputs(
          contract([
            { name: 'a', datatype: 'FP32', shape: [a, 1] },
            { name: 'b', datatype: 'FP32', shape: [b, 1] },
          ]),
        ),
      {
        ...CONTRACT_ERROR,
        message: new RegExp(`inputs disagree on the batch dim \\(\\[${a},1\\], \\[${b},1\\]\\)`),
      },
      `${a} and ${b}`,
    );
  }
});
