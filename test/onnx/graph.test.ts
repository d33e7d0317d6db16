/**
 * readGraph against graphs built here with onnx-proto and run in the real onnxruntime-node: the contract it reads,
 * and the ZipMap rewrite that lets onnxruntime-node return a classifier's probabilities at all.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { readGraph } from '../../lib/onnx/graph.js';
import { ErrorCodes } from '../../lib/errors.js';
import type { Datatype, TensorSpec } from '../../lib/core/model-contract.js';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

type Dim = number | string | null;

function tensorInfo(name: string, elemType: number, dims?: Dim[]): Onnx.IValueInfoProto {
  const dim = dims?.map((d) => (d === null ? {} : typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, ...(dim ? { shape: { dim } } : {}) } } };
}

const ZIPMAP_TYPE = (keyType: number): Onnx.ITypeProto => ({
  sequenceType: {
    elemType: { mapType: { keyType, valueType: { tensorType: { elemType: DataType.FLOAT } } } },
  },
});

function encode(graph: Onnx.IGraphProto, opsetImport = [{ domain: '', version: 13 }]): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'graph-test',
    producerVersion: '1.0',
    metadataProps: [{ key: 'kept', value: 'yes' }],
    opsetImport: [...opsetImport, { domain: 'ai.onnx.ml', version: 1 }],
    graph: { name: 'g', ...graph },
  });
  return onnx.ModelProto.encode(model).finish();
}

const bytesOf = (s: string) => new TextEncoder().encode(s);

// y = x · Wᵀ + b for 3 features and 3 classes, softmaxed: class k's scores are W[k].
const W = [
  [1, 0, -1],
  [0, 2, 0],
  [0.5, 0.5, 0.5],
];
const B = [0.1, -0.2, 0.3];
const X = [
  [1, 2, 3],
  [-1, 0.5, 2],
];

function softmaxScores(x: number[]): number[] {
  const z = W.map((w, k) => w.reduce((s, wi, i) => s + wi * (x[i] ?? 0), B[k] ?? 0));
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  return e.map((v) => v / e.reduce((a, b) => a + b, 0));
}

interface ClassifierOptions {
  labels: number[] | string[];
  zipMap: boolean;
  /** A value_info for the classifier's scores, with this shape. */
  scoresShape?: Dim[];
  opsetImport?: { domain: string; version: number }[];
}

/** skl2onnx's shape: LinearClassifier → (label → Identity → output_label, scores → ZipMap or Identity). */
function classifierModel({ labels, zipMap, scoresShape, opsetImport }: ClassifierOptions): Uint8Array {
  const strings = typeof labels[0] === 'string';
  const labelAttr: Onnx.IAttributeProto = strings
    ? { name: 'classlabels_strings', type: AttributeType.STRINGS, strings: (labels as string[]).map(bytesOf) }
    : { name: 'classlabels_ints', type: AttributeType.INTS, ints: labels as number[] };
  const zipAttr: Onnx.IAttributeProto = strings
    ? labelAttr
    : { name: 'classlabels_int64s', type: AttributeType.INTS, ints: labels as number[] };
  const probName = zipMap ? 'output_probability' : 'probabilities';
  return encode(
    {
      node: [
        {
          name: 'linear',
          opType: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          input: ['x'],
          output: ['label', 'scores'],
          attribute: [
            { name: 'coefficients', type: AttributeType.FLOATS, floats: W.flat() },
            { name: 'intercepts', type: AttributeType.FLOATS, floats: B },
            { name: 'post_transform', type: AttributeType.STRING, s: bytesOf('SOFTMAX') },
            labelAttr,
          ],
        },
        { name: 'label_id', opType: 'Identity', input: ['label'], output: ['output_label'] },
        zipMap
          ? {
              name: 'zipmap',
              opType: 'ZipMap',
              domain: 'ai.onnx.ml',
              input: ['scores'],
              output: [probName],
              attribute: [zipAttr],
            }
          : { name: 'prob_id', opType: 'Identity', input: ['scores'], output: [probName] },
      ],
      input: [tensorInfo('x', DataType.FLOAT, ['N', 3])],
      output: [
        tensorInfo('output_label', strings ? DataType.STRING : DataType.INT64, ['N']),
        zipMap
          ? { name: probName, type: ZIPMAP_TYPE(strings ? DataType.STRING : DataType.INT64) }
          : tensorInfo(probName, DataType.FLOAT, ['N', 3]),
      ],
      valueInfo: scoresShape ? [tensorInfo('scores', DataType.FLOAT, scoresShape)] : [],
    },
    opsetImport,
  );
}

const feeds = () => ({ x: new ort.Tensor('float32', Float32Array.from(X.flat()), [2, 3]) });

for (const labels of [
  [10, 20, 30],
  ['setosa', 'versicolor', 'virginica'],
]) {
  const strings = typeof labels[0] === 'string';
  t.test(`LinearClassifier + ZipMap with ${strings ? 'string' : 'int'} labels`, async (t) => {
    // Without a default-domain opset import for the int variant: the rewrite adds one for its Identity.
    const original = classifierModel({
      labels,
      zipMap: true,
      ...(strings ? {} : { opsetImport: [] }),
    });
    const { contract, onnx: rewritten } = readGraph(original, 'clf');
    t.same(contract, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [
        { name: 'output_label', datatype: strings ? 'BYTES' : 'INT64', shape: [-1] },
        { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
      ],
      labels: labels.map(String),
      probabilityOutput: 'output_probability',
      labelOutput: 'output_label',
      rewrittenOutputs: ['output_probability'],
      producer: 'graph-test 1.0',
    });

    // Why the rewrite exists: onnxruntime-node loads the original but cannot hand back a sequence of maps.
    const unrewritten = await ort.InferenceSession.create(original);
    await t.rejects(unrewritten.run(feeds()), /Non tensor type is temporarily not supported/);
    await unrewritten.release();

    const session = await ort.InferenceSession.create(rewritten);
    const out = await session.run(feeds());
    await session.release();
    const prob = out.output_probability!;
    t.equal(prob.type, 'float32');
    t.same(prob.dims, [2, 3]);
    const expected = X.map(softmaxScores);
    const got = Array.from(prob.data as Float32Array);
    expected.flat().forEach((p, i) => t.ok(Math.abs((got[i] ?? NaN) - p) < 1e-6, `p[${i}] ${got[i]} ≈ ${p}`));
    const argmax = expected.map((row) => labels[row.indexOf(Math.max(...row))]);
    t.same(
      Array.from(out.output_label!.data as ArrayLike<unknown>),
      strings ? argmax : argmax.map((l) => BigInt(l as number)),
    );

    // Only the ZipMap changed: nodes, metadata and opsets are kept.
    const decoded = onnx.ModelProto.decode(rewritten);
    t.same(
      decoded.graph!.node!.map((n) => [n.name, n.opType]),
      [
        ['linear', 'LinearClassifier'],
        ['label_id', 'Identity'],
        ['zipmap', 'Identity'],
      ],
    );
    t.same(decoded.metadataProps, [{ key: 'kept', value: 'yes' }]);
    const expectedOpsets = strings
      ? [
          ['', 13],
          ['ai.onnx.ml', 1],
        ]
      : [
          ['ai.onnx.ml', 1],
          ['', 13],
        ];
    t.same(
      decoded.opsetImport.map((o) => [o.domain, Number(o.version)]),
      expectedOpsets,
    );
  });
}

t.test("a rewritten output's shape comes from the scores' value_info when there is one", async (t) => {
  const bytes = classifierModel({ labels: [1, 2, 3], zipMap: true, scoresShape: [2, 3] });
  t.same(readGraph(bytes, 'clf').contract.outputs[1], {
    name: 'output_probability',
    datatype: 'FP32',
    shape: [2, 3],
  });
});

t.test('zipmap=False: labels and roles are found, nothing is rewritten', async (t) => {
  const bytes = classifierModel({ labels: ['a', 'b', 'c'], zipMap: false });
  const { contract, onnx: out } = readGraph(bytes, 'clf');
  t.equal(out, bytes, 'the same bytes, not a copy');
  t.same(contract.labels, ['a', 'b', 'c']);
  t.equal(contract.probabilityOutput, 'probabilities');
  t.equal(contract.labelOutput, 'output_label');
  t.same(contract.rewrittenOutputs, []);
  t.same(contract.outputs[1], { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] });
});

const DATATYPES = [
  ['FLOAT', 'FP32'],
  ['DOUBLE', 'FP64'],
  ['FLOAT16', 'FP16'],
  ['BOOL', 'BOOL'],
  ['INT8', 'INT8'],
  ['INT16', 'INT16'],
  ['INT32', 'INT32'],
  ['INT64', 'INT64'],
  ['UINT8', 'UINT8'],
  ['UINT16', 'UINT16'],
  ['UINT32', 'UINT32'],
  ['UINT64', 'UINT64'],
  ['STRING', 'BYTES'],
] as const;

t.test('every ONNX tensor type maps to its OIP datatype; symbolic and unset dims are -1', async (t) => {
  const shapes: (Dim[] | undefined)[] = [['batch', 4], [2, 'n', null], [], undefined];
  const names = DATATYPES.map(([onnxType]) => onnxType.toLowerCase());
  const shapeOf = (i: number) => shapes[i % shapes.length];
  const bytes = encode({
    node: names.map((n) => ({ opType: 'Identity', input: [n], output: [`${n}_out`] })),
    input: DATATYPES.map(([onnxType], i) => tensorInfo(names[i]!, DataType[onnxType], shapeOf(i))),
    output: DATATYPES.map(([onnxType], i) => tensorInfo(`${names[i]!}_out`, DataType[onnxType], shapeOf(i))),
  });
  const { contract, onnx: out } = readGraph(bytes, 'types');
  const expectedShapes = [[-1, 4], [2, -1, -1], [], [-1]];
  t.same(
    contract.inputs,
    DATATYPES.map(([, datatype], i) => ({ name: names[i], datatype, shape: expectedShapes[i % 4] })),
  );
  t.same(
    contract.outputs.map((o) => o.datatype),
    DATATYPES.map(([, datatype]) => datatype),
  );
  t.same(contract.labels, []);
  t.equal(contract.probabilityOutput, undefined);
  t.equal(contract.labelOutput, undefined);
  t.equal(out, bytes);
  // The graph is a real one: onnxruntime agrees on the names.
  const session = await ort.InferenceSession.create(out);
  t.same(session.inputNames, names);
  await session.release();
});

t.test('an initializer listed among the graph inputs (old IR versions) is not an input', async (t) => {
  const bytes = encode({
    node: [{ opType: 'Add', input: ['x', 'bias'], output: ['y'] }],
    initializer: [{ name: 'bias', dims: [2], dataType: DataType.FLOAT, floatData: [1, 2] }],
    input: [tensorInfo('x', DataType.FLOAT, ['N', 2]), tensorInfo('bias', DataType.FLOAT, [2])],
    output: [tensorInfo('y', DataType.FLOAT, ['N', 2])],
  });
  t.same(readGraph(bytes, 'add').contract.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }]);
});

t.test('types with no OIP datatype are refused, naming the model, the tensor and the type', async (t) => {
  const model = (input: Onnx.IValueInfoProto, output: Onnx.IValueInfoProto) =>
    encode({
      node: [{ opType: 'Identity', input: [input.name!], output: [output.name!] }],
      input: [input],
      output: [output],
    });
  const cases: [Uint8Array, RegExp][] = [
    [
      model(tensorInfo('x', DataType.BFLOAT16, ['N']), tensorInfo('y', DataType.FLOAT, ['N'])),
      /^bf: model\.onnx input "x" has type tensor\(bfloat16\)/,
    ],
    [
      model(tensorInfo('x', DataType.FLOAT, ['N']), tensorInfo('y', 19, ['N'])),
      /^bf: model\.onnx output "y" has type tensor\(float8e5m2\)/,
    ],
    [
      model(
        { name: 'x', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } },
        tensorInfo('y', 1),
      ),
      /input "x" has type sequence<tensor\(float\)>/,
    ],
    // A sequence of maps that no ZipMap produces cannot be rewritten.
    [
      model(tensorInfo('x', DataType.FLOAT), { name: 'y', type: ZIPMAP_TYPE(DataType.STRING) }),
      /output "y" has type sequence<map<string,float>>/,
    ],
  ];
  for (const [bytes, message] of cases) {
    t.throws(() => readGraph(bytes, 'bf'), {
      code: ErrorCodes.MODEL_CONTRACT,
      message,
      context: { model: 'bf' },
    });
  }
});

t.test('bytes that are not an ONNX model give a clear error', async (t) => {
  const valid = classifierModel({ labels: [1, 2, 3], zipMap: true });
  const cases: [string, Uint8Array][] = [
    ['text', bytesOf('this is not an onnx file')],
    ['truncated', valid.subarray(0, valid.length - 20)],
    ['empty', new Uint8Array()],
  ];
  for (const [what, bytes] of cases) {
    t.throws(
      () => readGraph(bytes, 'junk'),
      { code: ErrorCodes.MODEL_CONTRACT, message: /^junk: model\.onnx is not a valid ONNX model: \S/ },
      what,
    );
  }
});

// Real exports (skl2onnx, onnxmltools, torch.onnx) committed under test/fixtures/models, with scoring CSVs.
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
const EXPECTED: Record<
  string,
  { labels: string[]; probability?: string; label?: string; rewritten: string[] }
> = {
  titanic: {
    labels: ['0', '1'],
    probability: 'output_probability',
    label: 'output_label',
    rewritten: ['output_probability'],
  },
  iris_rf: {
    labels: ['setosa', 'versicolor', 'virginica'],
    probability: 'output_probability',
    label: 'output_label',
    rewritten: ['output_probability'],
  },
  gbt: { labels: ['0', '1', '2'], probability: 'probabilities', label: 'label', rewritten: [] },
  regressor: { labels: [], rewritten: [] },
};

const int = (x: string) => Math.trunc(Number(x));
const big = (x: string) => BigInt(int(x));
/** onnxruntime's tensor type for each datatype, and its data from CSV cells. */
const ORT: Record<Datatype, [ort.Tensor.Type, (cells: string[]) => ort.Tensor.DataType]> = {
  BOOL: ['bool', (c) => Uint8Array.from(c, (x) => (Number(x) ? 1 : 0))],
  INT8: ['int8', (c) => Int8Array.from(c, int)],
  INT16: ['int16', (c) => Int16Array.from(c, int)],
  INT32: ['int32', (c) => Int32Array.from(c, int)],
  INT64: ['int64', (c) => BigInt64Array.from(c, big)],
  UINT8: ['uint8', (c) => Uint8Array.from(c, int)],
  UINT16: ['uint16', (c) => Uint16Array.from(c, int)],
  UINT32: ['uint32', (c) => Uint32Array.from(c, int)],
  UINT64: ['uint64', (c) => BigUint64Array.from(c, big)],
  FP16: ['float16', (c) => new Uint16Array(c.length)], // float16 bit patterns: zeros
  FP32: ['float32', (c) => Float32Array.from(c, Number)],
  FP64: ['float64', (c) => Float64Array.from(c, Number)],
  BYTES: ['string', (c) => c],
};

/** Two rows for `input`: its column of the model's CSV, or all columns for a model's only input, else zeros. */
function feed(input: TensorSpec, csv: string[][] | undefined, single: boolean): ort.Tensor {
  const [header = [], ...rows] = csv ?? [];
  const dims = input.shape.map((d, i) => (d >= 0 ? d : i === 0 ? 2 : 1));
  const width = dims.slice(1).reduce((a, b) => a * b, 1);
  const columns = single ? header.map((_, i) => i) : [header.indexOf(input.name)];
  const cells = Array.from({ length: (dims[0] ?? 1) * width }, (_, i) => {
    const row = rows[Math.floor(i / width)];
    return row?.[columns[i % width] ?? -1] ?? '0';
  });
  const [type, make] = ORT[input.datatype];
  return new ort.Tensor(type, make(cells), dims);
}

for (const name of existsSync(FIXTURES) ? readdirSync(FIXTURES) : []) {
  const path = join(FIXTURES, name, '1', 'model.onnx');
  if (!existsSync(path)) continue;
  t.test(`fixture ${name}: the contract read from its graph, and the model runs`, async (t) => {
    const bytes = new Uint8Array(readFileSync(path));
    const { contract, onnx: model } = readGraph(bytes, name);
    const expected = EXPECTED[name];
    if (expected) {
      t.same(contract.labels, expected.labels);
      t.equal(contract.probabilityOutput, expected.probability);
      t.equal(contract.labelOutput, expected.label);
      t.same(contract.rewrittenOutputs, expected.rewritten);
    }
    if (contract.rewrittenOutputs.length === 0) t.equal(model, bytes, 'nothing rewritten: the same bytes');

    const csvPath = join(FIXTURES, 'data', `${name}.csv`);
    const csv = existsSync(csvPath)
      ? readFileSync(csvPath, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(','))
      : undefined;
    const feeds = Object.fromEntries(
      contract.inputs.map((i) => [i.name, feed(i, csv, contract.inputs.length === 1)]),
    );
    const session = await ort.InferenceSession.create(model);
    t.same(
      session.outputNames,
      contract.outputs.map((o) => o.name),
    );
    const out = await session.run(feeds);
    await session.release();
    for (const spec of contract.outputs) t.equal(out[spec.name]?.type, ORT[spec.datatype][0], spec.name);

    if (contract.probabilityOutput === undefined) return;
    // The probabilities are aligned with `labels`: each row sums to 1 and its largest is the predicted label.
    const k = contract.labels.length;
    const prob = Array.from(out[contract.probabilityOutput]!.data as Float32Array);
    const predicted =
      contract.labelOutput === undefined
        ? []
        : Array.from(out[contract.labelOutput]!.data as ArrayLike<unknown>);
    for (let r = 0; r < prob.length / k; r++) {
      const row = prob.slice(r * k, (r + 1) * k);
      t.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${r} sums to 1: ${row.join(', ')}`);
      if (predicted.length > 0)
        t.equal(contract.labels[row.indexOf(Math.max(...row))], String(predicted[r]), `row ${r} label`);
    }
  });
}
