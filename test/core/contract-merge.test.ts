/**
 * The model contract: model.json checked on its own (lib/core/model-contract.ts), and merged with what the ONNX
 * graph says (lib/onnx/contract.ts). The graphs are the third-party fixtures under test/fixtures/models/, read
 * with readGraph; what each holds is listed in their README.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  checkModelJson,
  completeContract,
  probabilityOutput,
  validateContract,
  type ModelContract,
  type PartialContract,
} from '../../lib/core/model-contract.js';
import { contractFromGraph } from '../../lib/onnx/contract.js';
import { readGraph, type GraphContract } from '../../lib/onnx/graph.js';
import { planInputs } from '../../lib/core/input-plan.js';

const CONTRACT_ERROR = { code: 'BI_ERR_MODEL_CONTRACT' };

function graphOf(model: string): GraphContract {
  const bytes = readFileSync(new URL(`../fixtures/models/${model}/1/model.onnx`, import.meta.url));
  return readGraph(bytes, model).contract;
}

const gbt = graphOf('gbt');
const torchFixed = graphOf('torch_fixed');
const torchMlp = graphOf('torch_mlp');
const titanic = graphOf('titanic');

t.test('the fixtures’ graphs are what their README says', async (t) => {
  t.same(gbt.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }]);
  t.same(gbt.outputs, [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  ]);
  t.same(gbt.labels, ['0', '1', '2']);
  t.same(torchFixed.inputs, [{ name: 'x', datatype: 'FP32', shape: [1, 2] }]);
  t.same(
    torchMlp.inputs.map((i) => i.name),
    ['x', 'flag'],
  );
});

t.test('checkModelJson: what a model.json must be', async (t) => {
  const ok = { format: 1, name: 'm' };
  t.equal(checkModelJson(ok, 'm'), ok, 'format and name are enough');
  t.equal(checkModelJson(ok), ok, 'the name from the file when none is expected');
  const refusals: [unknown, RegExp][] = [
    [null, /model\.json of "m" must be a JSON object/],
    [[1], /must be a JSON object/],
    [{ ...ok, format: 2 }, /unsupported format 2 \(expected 1\)/],
    [{ name: 'm' }, /unsupported format undefined/],
    [{ format: 1, name: '' }, /`name` must be a non-empty string/],
    [{ format: 1 }, /`name` must be a non-empty string/],
    [{ format: 1, name: 'other' }, /names the model "other" but it sits in the directory "m"/],
    [{ ...ok, platform: 'tensorflow' }, /platform must be "onnxruntime_onnx"/],
    [{ ...ok, inputs: [] }, /`inputs` must be a non-empty array/],
    [{ ...ok, outputs: {} }, /`outputs` must be a non-empty array/],
    [
      { ...ok, inputs: [{ name: 'x', shape: [-1] }] },
      /every `inputs` entry needs a name, an OIP datatype and a shape/,
    ],
    [{ ...ok, outputs: [{ name: 'y', datatype: 'FP32', shape: 3 }] }, /every `outputs` entry needs/],
    [{ ...ok, labels: ['a', 1] }, /`labels` must be an array of strings/],
    [{ ...ok, labels: 'a' }, /`labels` must be an array of strings/],
    [{ ...ok, probability_output: 1 }, /`probability_output` must be a string, got 1/],
    [{ ...ok, label_output: ['y'] }, /`label_output` must be a string/],
    [{ ...ok, description: 5 }, /`description` must be a string/],
    [{ ...ok, target: null }, /`target` must be a string/],
    [{ ...ok, features: {} }, /`features` must be an array/],
    [{ ...ok, features: [{ name: 'a' }] }, /needs name and column/],
    [{ ...ok, features: [{ name: 'a', column: 'a', transform: { type: 'log' } }] }, /unknown transform/],
    [
      {
        ...ok,
        features: [{ name: 'a', column: 'a', transform: { type: 'day_of_year', fn: 'tan', period: 365 } }],
      },
      /unknown transform/,
    ],
    [
      {
        ...ok,
        features: [{ name: 'a', column: 'a', transform: { type: 'day_of_year', fn: 'sin', period: 0 } }],
      },
      /unknown transform/,
    ],
    [{ ...ok, features: [{ name: 'a', column: 'a', standardize: { mean: 0, std: 0 } }] }, /positive std/],
    [{ ...ok, features: [{ name: 'a', column: 'a', standardize: { mean: 0, std: -1 } }] }, /positive std/],
    [{ ...ok, features: [{ name: 'a', column: 'a', standardize: { std: 1 } }] }, /a number mean/],
  ];
  for (const [value, message] of refusals)
    t.throws(() => checkModelJson(value, 'm'), { ...CONTRACT_ERROR, message }, JSON.stringify(value));
  const good = {
    ...ok,
    labels: ['a'],
    features: [
      { name: 'a', column: 'a' },
      {
        name: 'b',
        column: 'd',
        transform: { type: 'day_of_year', fn: 'cos', period: 7 },
        standardize: { mean: 1, std: 2 },
      },
    ],
    description: 'x',
    target: 'y',
  };
  t.equal(checkModelJson(good, 'm'), good);
  try {
    checkModelJson({ format: 1, name: 'other' }, 'm');
  } catch (err) {
    t.same((err as { context: unknown }).context, { model: 'm' }, 'the error names the model');
  }
});

t.test('validateContract: a whole contract, inputs and outputs included', async (t) => {
  const whole = {
    format: 1,
    name: 'w',
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 2] }],
    labels: ['a', 'b'],
  };
  const c = validateContract(whole, 'w');
  t.same(c.features, [], 'features filled');
  t.same(probabilityOutput(c), whole.outputs[0]);
  t.same(validateContract(whole).name, 'w');
  t.throws(() => validateContract({ ...whole, inputs: undefined }), {
    ...CONTRACT_ERROR,
    message: /`inputs` must be a non-empty array/,
  });
  t.throws(() => validateContract({ ...whole, outputs: undefined }), {
    ...CONTRACT_ERROR,
    message: /`outputs`/,
  });
  t.throws(() => validateContract(whole, 'v'), { ...CONTRACT_ERROR, message: /sits in the directory "v"/ });
  t.throws(() => validateContract({ ...whole, labels: ['a', 'b', 'c'] }), {
    ...CONTRACT_ERROR,
    message: /output "p" of shape \[-1,2\] does not hold one probability per label \(3\)/,
  });
  // Something a scorer could not use: a datatype that is not an Open Inference Protocol one, a shape that is not
  // integers ≥ -1.
  for (const bad of [
    { name: 'x', datatype: 'FLOAT', shape: [-1, 2] },
    { name: 'x', datatype: 'FP32', shape: [-1, '2'] },
    { name: 'x', datatype: 'FP32', shape: [-1, 1.5] },
  ]) {
    let refused = false;
    try {
      validateContract({ ...whole, inputs: [bad] });
    } catch {
      refused = true;
    }
    t.test(`validateContract refuses input ${JSON.stringify(bad)} (accepted)`, async (t) => {
      t.ok(refused);
    });
  }
});

const base = (outputs: ModelContract['outputs'], extra: Partial<PartialContract> = {}) => ({
  format: 1 as const,
  name: 'm',
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 3] }],
  outputs,
  ...extra,
});

t.test('completeContract: defaults and agreement of its parts', async (t) => {
  const plain = completeContract(base([{ name: 'y', datatype: 'FP32', shape: [-1] }]), 'm');
  t.same(plain.labels, []);
  t.same(plain.features, []);
  t.equal(plain.platform, 'onnxruntime_onnx');
  t.equal(probabilityOutput(plain), undefined, 'no labels: not a classifier');

  const features = [
    { name: 'a', column: 'a' },
    { name: 'b', column: 'b' },
  ];
  t.throws(() => completeContract(base([{ name: 'y', datatype: 'FP32', shape: [-1] }], { features }), 'm'), {
    ...CONTRACT_ERROR,
    message: /2 features need one input of shape \[-1, 2\], but the model has x \[-1,3\]/,
  });
  t.throws(
    () =>
      completeContract(
        {
          ...base([{ name: 'y', datatype: 'FP32', shape: [-1] }], { features }),
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [-1, 2] },
            { name: 'z', datatype: 'FP32', shape: [-1, 2] },
          ],
        },
        'm',
      ),
    { ...CONTRACT_ERROR, message: /x \[-1,2\], z \[-1,2\]/ },
  );
  t.ok(
    completeContract(
      {
        ...base([{ name: 'y', datatype: 'FP32', shape: [-1] }], { features }),
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
      },
      'm',
    ),
  );

  const two = [
    { name: 'label', datatype: 'INT64' as const, shape: [-1] },
    { name: 'probs', datatype: 'FP32' as const, shape: [-1, 3] },
  ];
  t.throws(() => completeContract(base(two, { probability_output: 'nope' }), 'm'), {
    ...CONTRACT_ERROR,
    message: /`probability_output` names "nope", which is not one of its outputs/,
  });
  t.throws(() => completeContract(base(two, { label_output: 'nope' }), 'm'), {
    ...CONTRACT_ERROR,
    message: /`label_output` names "nope"/,
  });
  t.throws(() => completeContract(base(two, { labels: ['a', 'b', 'c'] }), 'm'), {
    ...CONTRACT_ERROR,
    message: /has 3 labels but no output to read their probabilities from/,
  });
  const c = completeContract(
    base(two, { labels: ['a', 'b', 'c'], probability_output: 'probs', label_output: 'label' }),
    'm',
  );
  t.same(probabilityOutput(c), two[1]);
  t.throws(() => completeContract(base(two, { labels: ['a', 'b'], probability_output: 'probs' }), 'm'), {
    ...CONTRACT_ERROR,
    message: /output "probs" of shape \[-1,3\] does not hold one probability per label \(2\)/,
  });
  const open = completeContract(
    base([{ name: 'p', datatype: 'FP32', shape: [-1, -1] }], { labels: ['a', 'b'] }),
    'm',
  );
  t.equal(probabilityOutput(open)?.name, 'p', 'a variable width fits any number of labels');
});

t.test('contractFromGraph without model.json: everything from the graph', async (t) => {
  const c = contractFromGraph('gbt', gbt, undefined);
  t.equal(c.source, 'graph');
  t.equal(c.name, 'gbt');
  t.equal(c.format, 1);
  t.same(c.inputs, gbt.inputs);
  t.same(c.outputs, gbt.outputs);
  t.same(c.labels, ['0', '1', '2']);
  t.equal(c.probability_output, 'probabilities');
  t.equal(c.label_output, 'label');
  t.same(c.features, []);

  const fixed = contractFromGraph('torch_fixed', torchFixed, undefined);
  t.equal(fixed.source, 'graph');
  t.same(fixed.labels, []);
  t.notOk('probability_output' in fixed, 'no probability output key for a non-classifier');
  t.notOk('label_output' in fixed);
  t.same(fixed.inputs, [{ name: 'x', datatype: 'FP32', shape: [1, 2] }]);
  t.equal(planInputs(fixed).fixedBatch, 1);

  const sk = contractFromGraph('titanic', titanic, undefined);
  t.same(sk.labels, ['0', '1']);
  t.equal(sk.probability_output, 'output_probability');
});

t.test('contractFromGraph with model.json: checked against the graph', async (t) => {
  const json = (extra: Partial<PartialContract> = {}): PartialContract => ({
    format: 1,
    name: 'gbt',
    ...extra,
  });
  const bare = contractFromGraph('gbt', gbt, json({ description: 'd', target: 'species' }));
  t.equal(bare.source, 'model.json');
  t.same(bare.inputs, gbt.inputs, 'inputs left to the graph');
  t.same(bare.outputs, gbt.outputs);
  t.same(bare.labels, gbt.labels);
  t.equal(bare.probability_output, 'probabilities');
  t.equal(bare.label_output, 'label');
  t.equal(bare.description, 'd');
  t.equal(bare.target, 'species');

  const agreeing = contractFromGraph(
    'gbt',
    gbt,
    json({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
      labels: ['0', '1', '2'],
    }),
  );
  t.same(agreeing.outputs, gbt.outputs);
  t.equal(agreeing.source, 'model.json');
  t.equal(agreeing.label_output, 'label');
  // Outputs may be a subset of the graph's (only inputs must all be declared); the graph's label output, left
  // out, must not make the model fail to load with a complaint about a `label_output` model.json never set.
  let subset: ModelContract | string;
  try {
    subset = contractFromGraph(
      'gbt',
      gbt,
      json({ outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }] }),
    );
  } catch (err) {
    subset = (err as Error).message;
  }
  t.test(
    `model.json declaring outputs [probabilities] of gbt loads (got: ${typeof subset === 'string' ? subset : 'loaded'})`,
    async (t) => {
      t.type(subset, 'object');
      if (typeof subset !== 'string') {
        t.same(subset.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }]);
        t.equal(subset.label_output, undefined);
      }
    },
  );

  // Disagreements name both sides.
  t.throws(
    () =>
      contractFromGraph('gbt', gbt, json({ inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, 4] }] })),
    {
      ...CONTRACT_ERROR,
      message: 'Model "gbt": model.json says input "input" is FP64 [-1,4]; model.onnx has FP32 [-1,4]',
    },
    'a datatype',
  );
  t.throws(
    () =>
      contractFromGraph('gbt', gbt, json({ inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 5] }] })),
    {
      ...CONTRACT_ERROR,
      message: /model\.json says input "input" is FP32 \[-1,5\]; model\.onnx has FP32 \[-1,4\]/,
    },
    'a dim',
  );
  t.throws(
    () => contractFromGraph('gbt', gbt, json({ inputs: [{ name: 'input', datatype: 'FP32', shape: [-1] }] })),
    { ...CONTRACT_ERROR, message: /is FP32 \[-1\]; model\.onnx has FP32 \[-1,4\]/ },
    'a rank',
  );
  t.throws(
    () =>
      contractFromGraph('gbt', gbt, json({ outputs: [{ name: 'label', datatype: 'BYTES', shape: [-1] }] })),
    {
      ...CONTRACT_ERROR,
      message: /model\.json says output "label" is BYTES \[-1\]; model\.onnx has INT64 \[-1\]/,
    },
    'an output',
  );
  t.throws(
    () =>
      contractFromGraph(
        'gbt',
        gbt,
        json({ inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }] }),
      ),
    {
      ...CONTRACT_ERROR,
      message: /model\.json declares input\(s\) features that model\.onnx lacks \(model\.onnx has input\)/,
    },
    'a name',
  );
  t.throws(
    () =>
      contractFromGraph('gbt', gbt, json({ outputs: [{ name: 'proba', datatype: 'FP32', shape: [-1, 3] }] })),
    {
      ...CONTRACT_ERROR,
      message: /declares output\(s\) proba that model\.onnx lacks \(model\.onnx has label, probabilities\)/,
    },
  );
  t.throws(
    () =>
      contractFromGraph('torch_mlp', torchMlp, {
        format: 1,
        name: 'torch_mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
      }),
    { ...CONTRACT_ERROR, message: /model\.json leaves out input\(s\) flag of model\.onnx \(it declares x\)/ },
  );
  try {
    contractFromGraph('gbt', gbt, json({ inputs: [{ name: 'input', datatype: 'FP64', shape: [-1, 4] }] }));
  } catch (err) {
    t.same((err as { context: unknown }).context, { model: 'gbt' });
  }
});

t.test('contractFromGraph: labels', async (t) => {
  t.throws(
    () =>
      contractFromGraph('gbt', gbt, {
        format: 1,
        name: 'gbt',
        labels: ['setosa', 'versicolor', 'virginica'],
      }),
    {
      ...CONTRACT_ERROR,
      message:
        'Model "gbt": model.json\'s labels ["setosa","versicolor","virginica"] differ from the graph\'s ["0","1","2"]',
    },
  );
  t.throws(
    () => contractFromGraph('gbt', gbt, { format: 1, name: 'gbt', labels: ['1', '0', '2'] }),
    CONTRACT_ERROR,
    'order matters',
  );
  t.throws(
    () => contractFromGraph('gbt', gbt, { format: 1, name: 'gbt', labels: ['0', '1'] }),
    CONTRACT_ERROR,
  );
  t.same(contractFromGraph('gbt', gbt, { format: 1, name: 'gbt', labels: ['0', '1', '2'] }).labels, [
    '0',
    '1',
    '2',
  ]);
  // A graph without labels takes model.json's (which must fit the probability output).
  const mlp = contractFromGraph('torch_mlp', torchMlp, {
    format: 1,
    name: 'torch_mlp',
    labels: ['no', 'yes'],
    probability_output: 'probs',
  });
  t.same(mlp.labels, ['no', 'yes']);
  t.equal(probabilityOutput(mlp)?.name, 'probs');
  t.throws(
    () => contractFromGraph('torch_mlp', torchMlp, { format: 1, name: 'torch_mlp', labels: ['no', 'yes'] }),
    { ...CONTRACT_ERROR, message: /has 2 labels but no output to read their probabilities from/ },
    'two outputs: which holds the probabilities must be said',
  );
  t.throws(
    () =>
      contractFromGraph('torch_mlp', torchMlp, {
        format: 1,
        name: 'torch_mlp',
        labels: ['a', 'b', 'c'],
        probability_output: 'probs',
      }),
    { ...CONTRACT_ERROR, message: /does not hold one probability per label \(3\)/ },
  );
});

t.test('contractFromGraph: a variable dim on one side and a fixed one on the other agree', async (t) => {
  // model.json fixes what the graph leaves open: kept.
  const fixedByJson = contractFromGraph('gbt', gbt, {
    format: 1,
    name: 'gbt',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [8, 4] }],
  });
  t.same(fixedByJson.inputs, [{ name: 'input', datatype: 'FP32', shape: [8, 4] }]);
  // model.json leaves open what the graph fixes: accepted.
  const open = contractFromGraph('torch_fixed', torchFixed, {
    format: 1,
    name: 'torch_fixed',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
  });
  t.equal(open.source, 'model.json');
  t.same(
    open.inputs.map((i) => [i.name, i.datatype]),
    [['x', 'FP32']],
  );
  // The graph's fixed dims are facts about the model: the run must still send batches of 1 and know the width.
  t.test(
    'a declared -1 does not replace the graph’s fixed dim (torch_fixed [1, 2] stays [1, 2])',
    async (t) => {
      t.same(open.inputs[0]?.shape, [1, 2]);
      t.equal(planInputs(open).fixedBatch, 1);
    },
  );
});
