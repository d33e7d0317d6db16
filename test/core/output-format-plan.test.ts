/**
 * OutputFormat over an output plan (lib/core/output-format.ts with lib/core/output-plan.ts): records() against
 * the column texts written out here (FP32 as String(Number(p.toPrecision(9))), FP16 by its binary16 value, 64-bit
 * integers with all their digits, BOOL true/false, BYTES as is), and csv() byte for byte against csv-stringify's
 * output for records(), on random batches of every output datatype.
 */
import t from 'tap';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { OutputFormat } from '../../lib/core/output-format.js';
import { planOutputs } from '../../lib/core/output-plan.js';
import type { ModelContract, TensorSpec } from '../../lib/core/model-contract.js';
import type { Tensor } from '../../lib/core/tensor.js';
import type { ScoredBatch } from '../../lib/types.js';

function contract(outputs: TensorSpec[], extra: Partial<ModelContract> = {}): ModelContract {
  return {
    format: 1,
    name: 'm',
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs,
    labels: [],
    features: [],
    ...extra,
  };
}

/** binary16 by its definition. */
function halfValue(bits: number): number {
  const sign = bits >= 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 31;
  const mantissa = bits % 1024;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const fp32Text = (p: number): string => String(Number(p.toPrecision(9)));

/** Element i of a tensor as the output CSV's definition has it. */
function expectedText(tensor: Tensor, i: number): string {
  const v = (tensor.data as ArrayLike<number | bigint | string>)[i];
  switch (tensor.datatype) {
    case 'BYTES':
      return v as string;
    case 'BOOL':
      return v === 0 ? 'false' : 'true';
    case 'FP16':
      return String(halfValue(v as number));
    case 'FP32':
      return fp32Text(v as number);
    case 'INT64':
    case 'UINT64':
      return (v as bigint).toString(10);
    default:
      return String(v);
  }
}

const PLAIN: TensorSpec[] = [
  { name: 'score', datatype: 'FP32', shape: [-1] },
  { name: 'vec', datatype: 'FP64', shape: [-1, 2] },
  { name: 'ids', datatype: 'INT64', shape: [-1, 1] },
  { name: 'big', datatype: 'UINT64', shape: [-1] },
  { name: 'flags', datatype: 'BOOL', shape: [-1, 2] },
  { name: 'half', datatype: 'FP16', shape: [-1] },
  { name: 'text', datatype: 'BYTES', shape: [-1] },
  { name: 'grid', datatype: 'INT8', shape: [-1, 2, 2] },
  { name: 'u16', datatype: 'UINT16', shape: [-1, 1] },
];

const weird = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ',', '"', '\n', '\r', ' ', 'é', '😀', '') });
const cell = fc.string({ unit: fc.constantFrom('x', '1', ',', '"', '\n', ' ', '.', '-', 'ü') });

function elements(spec: TensorSpec, rows: number): fc.Arbitrary<Tensor['data']> {
  const n = rows * spec.shape.slice(1).reduce((a, b) => a * b, 1);
  const array = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: n, maxLength: n });
  switch (spec.datatype) {
    case 'FP32':
      return array(fc.float()).map((a) => Float32Array.from(a));
    case 'FP64':
      return array(fc.double()).map((a) => Float64Array.from(a));
    case 'INT64':
      return array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map((a) => BigInt64Array.from(a));
    case 'UINT64':
      return array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map((a) => BigUint64Array.from(a));
    case 'BOOL':
      return array(fc.integer({ min: 0, max: 1 })).map((a) => Uint8Array.from(a));
    case 'FP16':
      return array(fc.integer({ min: 0, max: 0xffff })).map((a) => Uint16Array.from(a));
    case 'BYTES':
      return array(weird);
    case 'INT8':
      return array(fc.integer({ min: -128, max: 127 })).map((a) => Int8Array.from(a));
    case 'UINT16':
      return array(fc.integer({ min: 0, max: 65535 })).map((a) => Uint16Array.from(a));
    default:
      throw new Error(`no arbitrary for ${spec.datatype}`);
  }
}

/** Random outputs for `specs` and random input rows of `width` values. */
function batchArbitrary(specs: TensorSpec[], width: number) {
  return fc.integer({ min: 0, max: 12 }).chain((rows) =>
    fc.tuple(
      fc.array(fc.array(cell, { minLength: width, maxLength: width }), {
        minLength: rows,
        maxLength: rows,
      }),
      fc.tuple(...specs.map((s) => elements(s, rows))),
      fc.boolean(),
    ),
  );
}

function scored(
  specs: TensorSpec[],
  values: string[][],
  data: Tensor['data'][],
  probabilities: Float32Array = new Float32Array(0),
): ScoredBatch {
  return {
    index: 3,
    rows: values.map((v, i) => ({ line: i + 2, values: v, row: i + 1 })),
    inputs: [],
    outputs: specs.map((s, k) => ({
      name: s.name,
      datatype: s.datatype,
      shape: [values.length, ...s.shape.slice(1)],
      data: data[k] as Tensor['data'],
    })),
    probabilities,
  };
}

t.test('a plan without a classifier: columns of every datatype', async (t) => {
  const plan = planOutputs(contract(PLAIN));
  const columns = ['c0', 'c1'];
  fc.assert(
    fc.property(
      batchArbitrary(PLAIN, 2),
      fc.constantFrom(undefined, ['c1'], ['c1', 'c0'], []),
      ([values, data, withText], keep) => {
        const format = new OutputFormat(plan, keep);
        const header = format.header(columns);
        if (JSON.stringify(header) !== JSON.stringify([...(keep ?? columns), ...plan.columns])) return false;
        if (format.headerCsv(columns) !== stringify([header])) return false;
        const batch = scored(PLAIN, values, data);
        // A row's text, when its values need no quotes, is passed through.
        if (withText)
          for (const row of batch.rows)
            if (!row.values.some((v) => /[",\r\n]/.test(String(v)))) row.text = row.values.join(',');
        const records = format.records(batch);
        // Expected records from the definition.
        const expected = batch.rows.map((row, i) => {
          const record =
            keep === undefined ? [...row.values] : keep.map((c) => row.values[columns.indexOf(c)] as string);
          for (const [k, spec] of PLAIN.entries()) {
            const tensor = batch.outputs[k] as Tensor;
            const width = spec.shape.slice(1).reduce((a, b) => a * b, 1);
            for (let j = 0; j < width; j++) record.push(expectedText(tensor, i * width + j));
          }
          return record;
        });
        if (JSON.stringify(records) !== JSON.stringify(expected)) return false;
        return format.csv(batch).equals(Buffer.from(stringify(records)));
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

t.test('a classifier with a label output, and a plain output after it', async (t) => {
  const labels = ['a', 'b,c', 'd"e'];
  const specs: TensorSpec[] = [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'probs', datatype: 'FP32', shape: [-1, 3] },
    { name: 'extra', datatype: 'FP64', shape: [-1, 1] },
  ];
  const plan = planOutputs(contract(specs, { labels, probability_output: 'probs', label_output: 'label' }));
  t.same(plan.columns, ['prediction', 'probability_a', 'probability_b,c', 'probability_d"e', 'extra']);
  fc.assert(
    fc.property(batchArbitrary(specs, 3), ([values, data, carried]) => {
      const format = new OutputFormat(plan);
      const header = format.header(['p', 'q', 'r']);
      if (format.headerCsv(['p', 'q', 'r']) !== stringify([header])) return false;
      // The batch's probabilities when the scorer filled them, else read from the probability output.
      const probs = data[1] as Float32Array;
      const batch = scored(specs, values, data, carried ? probs : new Float32Array(0));
      const records = format.records(batch);
      const expected = batch.rows.map((row, i) => [
        ...row.values,
        (data[0] as string[])[i] as string, // the model's own label, whatever the probabilities say
        ...Array.from(probs.subarray(3 * i, 3 * i + 3), fp32Text),
        String((data[2] as Float64Array)[i]),
      ]);
      if (JSON.stringify(records) !== JSON.stringify(expected)) return false;
      return format.csv(batch).equals(Buffer.from(stringify(records)));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

t.test('known values: the texts written out', async (t) => {
  const specs: TensorSpec[] = [
    { name: 'h', datatype: 'FP16', shape: [-1] },
    { name: 'i', datatype: 'INT64', shape: [-1] },
    { name: 'b', datatype: 'BOOL', shape: [-1] },
    { name: 's', datatype: 'BYTES', shape: [-1] },
    { name: 'f', datatype: 'FP32', shape: [-1] },
    { name: 'd', datatype: 'FP64', shape: [-1] },
  ];
  const format = new OutputFormat(planOutputs(contract(specs)));
  t.same(format.header(['in']), ['in', 'h', 'i', 'b', 's', 'f', 'd']);
  const batch = scored(
    specs,
    [['x'], ['y,z']],
    [
      Uint16Array.from([0x3c00, 0x7e00]),
      BigInt64Array.from([-9223372036854775808n, 9007199254740993n]),
      Uint8Array.from([1, 0]),
      ['say "hi"', 'two\nlines'],
      Float32Array.from([0.1, NaN]),
      Float64Array.from([0.1, -Infinity]),
    ],
  );
  t.equal(
    format.csv(batch).toString(),
    'x,1,-9223372036854775808,true,"say ""hi""",0.100000001,0.1\n' +
      '"y,z",NaN,9007199254740993,false,"two\nlines",NaN,-Infinity\n',
  );
  t.same(format.records(batch)[1], [
    'y,z',
    'NaN',
    '9007199254740993',
    'false',
    'two\nlines',
    'NaN',
    '-Infinity',
  ]);
});

t.test('a missing output is a BAD_RESPONSE error', async (t) => {
  const format = new OutputFormat(planOutputs(contract([{ name: 'y', datatype: 'FP32', shape: [-1] }])));
  format.header(['a']);
  const batch: ScoredBatch = {
    index: 0,
    rows: [{ line: 2, values: ['1'], row: 1 }],
    inputs: [],
    outputs: [{ name: 'z', datatype: 'FP32', shape: [1], data: new Float32Array(1) }],
    probabilities: new Float32Array(0),
  };
  t.throws(() => format.csv(batch), { code: 'BI_ERR_BAD_RESPONSE', message: /lacks output "y"/ });
  t.throws(() => format.records(batch), { code: 'BI_ERR_BAD_RESPONSE' });
});
