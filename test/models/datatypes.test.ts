/**
 * Every Open Inference Protocol datatype end to end, with test/fixtures/models/all_types (one input and output
 * per datatype; numbers + 1, BOOL negated, strings as they are): the server over V2 JSON and binary, the
 * `local`, `v2-json` and `v2-binary` scorers, dynamic batching's merge of multi-input requests, and batch runs
 * of a CSV over every protocol. Expected answers come from onnxruntime run directly on the same tensors.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import t from 'tap';
import { createHttpScorer } from '../../lib/adapters/http-scorer.js';
import { createLocalScorer } from '../../lib/adapters/local-scorer.js';
import { createCodec } from '../../lib/adapters/protocols.js';
import type { Datatype } from '../../lib/core/model-contract.js';
import type { Tensor, TensorData } from '../../lib/core/tensor.js';
import { readModelVersion } from '../../lib/model-files.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { createPipeline } from '../../lib/pipeline.js';
import { concatInputs, splitOutputs } from '../../server/inference/batch-tensors.js';
import { startServer, tempDir } from '../helpers.js';

const REPO = join(PACKAGE_ROOT, 'test', 'fixtures', 'models');
const MODEL = join(REPO, 'all_types', '1', 'model.onnx');

/** Per datatype: its input name prefix, onnxruntime type and two rows of values (edge values included). */
const TYPES: [Datatype, string, string, (number | bigint | boolean | string)[]][] = [
  ['BOOL', 'bool', 'bool', [true, false, false, true]],
  ['INT8', 'int8', 'int8', [-128, 127, 0, -1]],
  ['INT16', 'int16', 'int16', [-32768, 32767, 7, -7]],
  ['INT32', 'int32', 'int32', [-2147483648, 2147483646, 12, -12]],
  ['INT64', 'int64', 'int64', [-9007199254740991n, 9007199254740990n, 42n, -42n]],
  ['UINT8', 'uint8', 'uint8', [0, 255, 1, 2]],
  ['UINT16', 'uint16', 'uint16', [0, 65535, 3, 4]],
  ['UINT32', 'uint32', 'uint32', [0, 4294967294, 5, 6]],
  ['UINT64', 'uint64', 'uint64', [0n, 9007199254740990n, 8n, 9n]],
  ['FP16', 'fp16', 'float16', [0.5, -2.25, 65504, 0.0001]],
  ['FP32', 'fp32', 'float32', [0.1, -3.4e38, 1e-30, 7]],
  ['FP64', 'fp64', 'float64', [0.1, -1.7e308, 5e-324, 7]],
  ['BYTES', 'string', 'string', ['Zoë, "quoted"\nline', '']],
];

const toHalf = (v: number): number => {
  // Independent of lib/core/fp16.ts: via a DataView-free table of the four test values.
  const table: Record<string, number> = { '0.5': 0x3800, '-2.25': 0xc080, '65504': 0x7bff, '0.0001': 0x068e };
  return table[String(v)] as number;
};

/** The test's inputs as this package's tensors, `rows` rows (repeating the two rows given). */
function inputs(rows: number): Tensor[] {
  return TYPES.map(([datatype, prefix, , values]) => {
    const width = datatype === 'BYTES' ? 1 : 2;
    const pick = (i: number) => values[i % values.length] as number | bigint | boolean | string;
    const count = rows * width;
    let data: TensorData;
    if (datatype === 'BYTES') data = Array.from({ length: count }, (_, i) => pick(i) as string);
    else if (datatype === 'BOOL') data = Uint8Array.from({ length: count }, (_, i) => (pick(i) ? 1 : 0));
    else if (datatype === 'FP16') data = Uint16Array.from({ length: count }, (_, i) => toHalf(pick(i) as number));
    else if (datatype === 'INT64') data = BigInt64Array.from({ length: count }, (_, i) => pick(i) as bigint);
    else if (datatype === 'UINT64') data = BigUint64Array.from({ length: count }, (_, i) => pick(i) as bigint);
    else {
      const make = {
        INT8: Int8Array,
        INT16: Int16Array,
        INT32: Int32Array,
        UINT8: Uint8Array,
        UINT16: Uint16Array,
        UINT32: Uint32Array,
        FP32: Float32Array,
        FP64: Float64Array,
      }[datatype as 'INT8'];
      data = make.from({ length: count }, (_, i) => pick(i) as number);
    }
    return { name: `${prefix}_in`, datatype, shape: [rows, width], data };
  });
}

/** onnxruntime's answer for the same tensors, as plain arrays per output. */
async function direct(tensors: readonly Tensor[]): Promise<Record<string, unknown[]>> {
  const session = await ort.InferenceSession.create(MODEL);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [i, tensor] of tensors.entries()) {
    const type = (TYPES[i] as (typeof TYPES)[number])[2];
    feeds[tensor.name] = new ort.Tensor(type as 'float32', tensor.data as Float32Array, tensor.shape);
  }
  const result = await session.run(feeds);
  await session.release();
  return Object.fromEntries(Object.entries(result).map(([name, x]) => [name, Array.from(x.data as ArrayLike<unknown>)]));
}

const plain = (tensors: readonly Tensor[]): Record<string, unknown[]> =>
  Object.fromEntries(tensors.map((x) => [x.name, Array.from(x.data as ArrayLike<unknown>)]));

const files = await readModelVersion(REPO, 'all_types');
const outputNames = files.contract.outputs.map((o) => o.name);

t.test('the contract from the graph has every datatype', async (t) => {
  t.same(
    files.contract.inputs.map((i) => i.datatype),
    TYPES.map(([d]) => d),
  );
  t.same(
    files.contract.outputs.map((o) => o.datatype),
    TYPES.map(([d]) => d),
  );
});

t.test('the local scorer, and v2-json and v2-binary against the server, answer as onnxruntime', async (t) => {
  const want = await direct(inputs(3));
  const local = await createLocalScorer(files);
  t.same(plain(await local.score(inputs(3))), want, 'local');
  await local.close();
  const url = await startServer(t, { models: REPO, workers: 1 });
  for (const protocol of ['v2-json', 'v2-binary'] as const) {
    const scorer = createHttpScorer({ url, codec: createCodec(protocol, files.contract, 1, undefined, outputNames) });
    const got = plain(await scorer.score(inputs(3)));
    await scorer.close();
    t.same(got, want, protocol);
  }
});

t.test('dynamic batching merges multi-input requests of every datatype and splits the answers', async (t) => {
  const parts = [inputs(1), inputs(2), inputs(3)];
  const merged = concatInputs(parts);
  const want = await Promise.all(parts.map(direct));
  const session = await ort.InferenceSession.create(MODEL);
  const feeds: Record<string, ort.Tensor> = {};
  merged.forEach((x, i) => {
    feeds[x.name] = new ort.Tensor((TYPES[i] as (typeof TYPES)[number])[2] as 'float32', x.data as Float32Array, x.shape);
  });
  const result = await session.run(feeds);
  await session.release();
  const outputs: Tensor[] = files.contract.outputs.map((o) => ({
    name: o.name,
    datatype: o.datatype,
    shape: [...(result[o.name] as ort.Tensor).dims],
    data: (result[o.name] as ort.Tensor).data,
  }));
  const split = splitOutputs(outputs, [1, 2, 3], [outputNames, outputNames, outputNames]);
  split.forEach((answer, i) => t.same(plain(answer), want[i], `request ${i} gets its own rows`));

  // Over HTTP, concurrent requests of different sizes each get their own answer.
  const url = await startServer(t, { models: REPO, workers: 1, maxBatchSize: 64 });
  const scorer = createHttpScorer({
    url,
    codec: createCodec('v2-binary', files.contract, 1, undefined, outputNames),
    connections: 8,
  });
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8];
  const answers = await Promise.all(sizes.map((n) => scorer.score(inputs(n))));
  await scorer.close();
  for (const [i, n] of sizes.entries()) t.same(plain(answers[i] as Tensor[]), await direct(inputs(n)), `${n} rows`);
});

// JSON numbers are doubles: 64-bit integers beyond 2^53 need the binary protocol (docs/server.md).
t.test('a CSV of every datatype is scored alike in process and over every protocol', async (t) => {
  const dir = await tempDir(t);
  const header = TYPES.flatMap(([d, prefix]) => (d === 'BYTES' ? ['string_in'] : [`${prefix}_in_0`, `${prefix}_in_1`]));
  const rows = [
    ['true', 'false', '-128', '127', '-32768', '32767', '-5', '5', '-9007199254740991', '9007199254740990', '0', '255', '0', '65535', '0', '4294967294', '0', '9007199254740990', '0.5', '-2.25', '0.1', '-7', '0.1', '1e-300', '"a, ""b"""'],
    ['0', '1', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '1', '2', '3', '4', '5', '6', 'plain'],
  ];
  const input = join(dir, 'all.csv');
  await writeFile(input, [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
  const run = async (what: string, options: Record<string, unknown>): Promise<string> => {
    const output = join(dir, `${what}.csv`);
    await createPipeline({ input, output, model: 'all_types', models: REPO, summary: false, ...options });
    return readFile(output, 'utf8');
  };
  const local = await run('local', {});
  const lines = local.trim().split('\n');
  t.equal(lines.length, 3, 'header and two rows');
  t.ok(lines[0]?.endsWith('fp64_out_0,fp64_out_1,string_out'), 'a column per output element');
  // Row 1's outputs: numbers + 1 (INT8 127 wraps to -128), BOOL negated, the string as it came.
  t.match(lines[1], /,false,true,-127,-128,-32767,-32768,-4,6,-9007199254740990,9007199254740991,1,0,1,0,1,4294967295,1,9007199254740991,1\.5,-1\.25,1\.10000002,-6,1\.1,1,"a, ""b"""$/);
  const url = await startServer(t, { models: REPO, workers: 1, defaultModel: 'all_types' });
  for (const protocol of ['v2-json', 'v2-binary', 'vertex', 'sagemaker'])
    t.equal(await run(protocol, { url, protocol }), local, `${protocol} output byte-identical to local`);
});
