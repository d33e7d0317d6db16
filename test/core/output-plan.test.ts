/**
 * Outputs → columns (lib/core/output-plan.ts; DESIGN.md, "Outputs → columns"): a classifier's `prediction` and
 * `probability_<label>` columns, every other output a column per element of its row, and the `outputs` option.
 */
import t from 'tap';
import { classifierPlan, planOutputs } from '../../lib/core/output-plan.js';
import type { ModelContract, TensorSpec } from '../../lib/core/model-contract.js';

function contract(outputs: TensorSpec[], extra: Partial<ModelContract> = {}): ModelContract {
  return {
    format: 1,
    name: 'm',
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
    outputs,
    labels: [],
    features: [],
    ...extra,
  };
}

const CONTRACT_ERROR = { code: 'BI_ERR_MODEL_CONTRACT' };

// skl2onnx's classifier, after the ZipMap rewrite: a label output and a probability output.
const classifier = contract(
  [
    { name: 'output_label', datatype: 'BYTES', shape: [-1] },
    { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
  ],
  {
    labels: ['setosa', 'versicolor', 'virginica'],
    probability_output: 'output_probability',
    label_output: 'output_label',
  },
);

t.test('a classifier with a label output: its label is the prediction', async (t) => {
  const plan = planOutputs(classifier);
  t.same(plan.outputs, ['output_label', 'output_probability']);
  t.same(plan.classifier, {
    probabilities: 'output_probability',
    label: 'output_label',
    labels: ['setosa', 'versicolor', 'virginica'],
  });
  t.same(plan.plain, []);
  t.same(plan.columns, [
    'prediction',
    'probability_setosa',
    'probability_versicolor',
    'probability_virginica',
  ]);
});

t.test(
  'a classifier without a label output, or without asking for it: the most probable label',
  async (t) => {
    const weather = contract([{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }], {
      labels: ['rain', 'sun'],
    });
    const plan = planOutputs(weather);
    t.same(plan.classifier, { probabilities: 'probabilities', label: undefined, labels: ['rain', 'sun'] });
    t.same(plan.columns, ['prediction', 'probability_rain', 'probability_sun']);
    t.same(plan.outputs, ['probabilities']);
    t.same(plan, classifierPlan(['rain', 'sun']), 'the same as classifierPlan');

    const onlyProbabilities = planOutputs(classifier, ['output_probability']);
    t.equal(onlyProbabilities.classifier?.label, undefined, 'label output not asked for');
    t.same(onlyProbabilities.outputs, ['output_probability']);
    t.same(onlyProbabilities.columns, [
      'prediction',
      'probability_setosa',
      'probability_versicolor',
      'probability_virginica',
    ]);
  },
);

t.test('the outputs option: selection and order', async (t) => {
  // Only the label: not a classifier run; the label output is a plain column.
  const labelOnly = planOutputs(classifier, ['output_label']);
  t.equal(labelOnly.classifier, undefined);
  t.same(labelOnly.plain, [{ name: 'output_label', columns: ['output_label'], datatype: 'BYTES' }]);
  t.same(labelOnly.columns, ['output_label']);

  const multi = contract([
    { name: 'a', datatype: 'FP32', shape: [-1, 2] },
    { name: 'b', datatype: 'INT64', shape: [-1] },
    { name: 'c', datatype: 'BYTES', shape: [-1, 1] },
  ]);
  const chosen = planOutputs(multi, ['c', 'a']);
  t.same(chosen.outputs, ['c', 'a']);
  t.same(chosen.columns, ['c', 'a_0', 'a_1'], 'in the order given');
  // A classifier's columns come first whatever the order of the option.
  const both = planOutputs(
    contract(
      [
        { name: 'extra', datatype: 'FP64', shape: [-1, 1] },
        { name: 'probs', datatype: 'FP32', shape: [-1, 2] },
      ],
      { labels: ['n', 'y'], probability_output: 'probs' },
    ),
    ['extra', 'probs'],
  );
  t.same(both.columns, ['prediction', 'probability_n', 'probability_y', 'extra']);
  t.same(both.plain, [{ name: 'extra', columns: ['extra'], datatype: 'FP64' }]);
  t.same(both.outputs, ['extra', 'probs']);
});

t.test('plain columns: [N] and [N, 1] → name; [N, K] → name_j; [N, 2, 3] → 6 columns', async (t) => {
  const plan = planOutputs(
    contract([
      { name: 'score', datatype: 'FP32', shape: [-1] },
      { name: 'y', datatype: 'FP64', shape: [-1, 1] },
      { name: 'probs', datatype: 'FP32', shape: [-1, 2] },
      { name: 'grid', datatype: 'INT32', shape: [-1, 2, 3] },
      { name: 'one', datatype: 'BOOL', shape: [-1, 1, 1] },
      { name: 'fixed', datatype: 'FP16', shape: [1, 3] },
    ]),
  );
  t.equal(plan.classifier, undefined, 'no labels: not a classifier');
  t.same(plan.plain, [
    { name: 'score', columns: ['score'], datatype: 'FP32' },
    { name: 'y', columns: ['y'], datatype: 'FP64' },
    { name: 'probs', columns: ['probs_0', 'probs_1'], datatype: 'FP32' },
    {
      name: 'grid',
      columns: ['grid_0', 'grid_1', 'grid_2', 'grid_3', 'grid_4', 'grid_5'],
      datatype: 'INT32',
    },
    { name: 'one', columns: ['one'], datatype: 'BOOL' },
    { name: 'fixed', columns: ['fixed_0', 'fixed_1', 'fixed_2'], datatype: 'FP16' },
  ]);
  t.same(plan.columns, [
    'score',
    'y',
    'probs_0',
    'probs_1',
    ...['grid_0', 'grid_1', 'grid_2', 'grid_3', 'grid_4', 'grid_5'],
    'one',
    'fixed_0',
    'fixed_1',
    'fixed_2',
  ]);
  t.same(plan.outputs, ['score', 'y', 'probs', 'grid', 'one', 'fixed']);
});

t.test('refusals', async (t) => {
  t.throws(() => planOutputs(classifier, ['output_label', 'nope', 'nada']), {
    ...CONTRACT_ERROR,
    message: 'Model "m": it has no output(s) nope, nada (its outputs: output_label, output_probability)',
  });
  t.throws(() => planOutputs(classifier, []), { ...CONTRACT_ERROR, message: /names no output/ });
  const variable = contract([
    { name: 'ok', datatype: 'FP32', shape: [-1] },
    { name: 'seq', datatype: 'FP32', shape: [-1, -1] },
  ]);
  t.throws(() => planOutputs(variable), {
    ...CONTRACT_ERROR,
    message: /output "seq" has the variable shape \[-1,-1\].*leave it out with `--outputs`/,
  });
  t.throws(
    () => planOutputs(contract([{ name: 'deep', datatype: 'FP32', shape: [-1, 3, -1] }])),
    CONTRACT_ERROR,
  );
  // Leaving it out works.
  t.same(planOutputs(variable, ['ok']).columns, ['ok']);
  // A classifier whose probability output has a variable width: its columns come from the labels.
  const open = contract([{ name: 'p', datatype: 'FP32', shape: [-1, -1] }], { labels: ['a', 'b'] });
  t.same(planOutputs(open).columns, ['prediction', 'probability_a', 'probability_b']);
});

t.test('classifierPlan', async (t) => {
  t.same(classifierPlan(['a', 'b,c']), {
    outputs: ['probabilities'],
    classifier: { probabilities: 'probabilities', label: undefined, labels: ['a', 'b,c'] },
    plain: [],
    columns: ['prediction', 'probability_a', 'probability_b,c'],
  });
  t.same(classifierPlan(['x'], 'probs').outputs, ['probs']);
  t.equal(classifierPlan(['x'], 'probs').classifier?.probabilities, 'probs');
});
