/**
 * Models other projects exported (test/fixtures/models: skl2onnx pipelines and tree ensembles, XGBoost through
 * onnxmltools, torch.onnx exports), with no model.json: served by a real server and scored by the pipeline in
 * process and over every protocol. Every answer is checked against onnxruntime run directly on tensors this
 * test builds itself from the CSV (its own parsing, not the product's input plan), to 1e-6.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as ort from 'onnxruntime-node';
import t, { type Test } from 'tap';
import { createPipeline } from '../../lib/pipeline.js';
import { readGraph } from '../../lib/onnx/graph.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { startServer, tempDir } from '../helpers.js';

const REPO = join(PACKAGE_ROOT, 'test', 'fixtures', 'models');
const DATA = join(REPO, 'data');
const TOLERANCE = 1e-6;

type Value = number | bigint | string;

interface Case {
  model: string;
  /** Input → the CSV columns that feed it, in order. */
  columns: Record<string, string[]>;
  /** The run's `features` option, for a model with one [N, K] input. */
  features?: string[];
  /** Outputs the original model.onnx cannot return (ZipMaps): taken from the graph with them as tensors. */
  zipmap?: string[];
  /** The output columns a run writes, per output: `prediction`/`probability_<label>` or plain columns. */
  labels?: string[];
  /** Lines (1-based, the header is line 1) of <model>.bad.csv that must be rejected. */
  badLines: number[];
}

const IRIS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const DIABETES = ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'];

const CASES: Case[] = [
  {
    model: 'titanic',
    columns: Object.fromEntries(['pclass', 'sex', 'age', 'sibsp', 'fare', 'embarked'].map((c) => [c, [c]])),
    zipmap: ['output_probability'],
    labels: ['0', '1'],
    badLines: [2, 3, 4],
  },
  {
    model: 'iris_rf',
    columns: { input: IRIS },
    features: IRIS,
    zipmap: ['output_probability'],
    labels: ['setosa', 'versicolor', 'virginica'],
    badLines: [2, 4],
  },
  { model: 'gbt', columns: { input: IRIS }, features: IRIS, labels: ['0', '1', '2'], badLines: [2] },
  { model: 'regressor', columns: { input: DIABETES }, features: DIABETES, badLines: [2, 4] },
  { model: 'torch_mlp', columns: { x: ['x_0', 'x_1', 'x_2'], flag: ['flag'] }, badLines: [2, 3, 4] },
  { model: 'torch_fixed', columns: { x: ['x_0', 'x_1'] }, features: ['x_0', 'x_1'], badLines: [2] },
];

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** This test's own reading of a cell for an onnxruntime input type; undefined when the row must be rejected. */
function cell(type: string, text: string | undefined): Value | undefined {
  if (text === undefined) return undefined;
  if (type === 'string') return text;
  if (type === 'int64') return /^[+-]?\d+(\.0+)?$/.test(text.trim()) ? BigInt(text.trim().split('.')[0] as string) : undefined;
  if (text.trim() === '') return Number.NaN;
  return DECIMAL.test(text.trim()) ? Number(text) : undefined;
}

interface Expected {
  /** The scored rows' CSV values. */
  rows: string[][];
  /** Each output's values for all the rows, row-major. */
  outputs: Record<string, { data: Value[] }>;
}

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes);
}

/** Tensors for `rows` (CSV records keyed by column) built from the session's input types. */
function feeds(s: ort.InferenceSession, c: Case, records: Record<string, string>[]): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const meta of s.inputMetadata) {
    const type = (meta as { type: string }).type;
    const columns = c.columns[meta.name] as string[];
    const values = records.flatMap((r) => columns.map((col) => cell(type, r[col]) as Value));
    const dims = [records.length, columns.length];
    const dimsFor = (meta as unknown as { shape: (number | string)[] }).shape.length === 1 ? [records.length] : dims;
    out[meta.name] =
      type === 'string'
        ? new ort.Tensor('string', values as string[], dimsFor)
        : type === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from(values as bigint[]), dimsFor)
          : new ort.Tensor('float32', Float32Array.from(values as number[]), dimsFor);
  }
  return out;
}

/** onnxruntime run directly on the good rows of the model's CSV. */
async function expected(c: Case): Promise<Expected> {
  const text = await readFile(join(DATA, `${c.model}.csv`), 'utf8');
  const records = parse<Record<string, string>>(text, { columns: true });
  const bytes = await readFile(join(REPO, c.model, '1', 'model.onnx'));
  const original = await session(bytes);
  // The same graph with its ZipMaps returned as tensors (what the server serves), for those outputs only.
  const rewritten = c.zipmap === undefined ? undefined : await session(readGraph(bytes, c.model).onnx);
  const fixed = (original.inputMetadata[0] as unknown as { shape: (number | string)[] }).shape[0] === 1;
  const chunks = fixed ? records.map((r) => [r]) : [records];
  const parts: Record<string, ort.Tensor>[] = [];
  for (const chunk of chunks) {
    const names = original.outputNames.filter((n) => !(c.zipmap ?? []).includes(n));
    const part = await original.run(feeds(original, c, chunk), names);
    if (rewritten !== undefined)
      Object.assign(part, await rewritten.run(feeds(rewritten, c, chunk), c.zipmap as string[]));
    parts.push(part);
  }
  const outputs: Record<string, { data: Value[] }> = {};
  for (const name of Object.keys(parts[0] ?? {}))
    outputs[name] = { data: parts.flatMap((p) => Array.from((p[name] as ort.Tensor).data as ArrayLike<Value>)) };
  const header = Object.keys(records[0] ?? {});
  return { rows: records.map((r) => header.map((h) => r[h] ?? '')), outputs };
}

/** The output columns a run writes for the expected outputs, row by row, as numbers or text. */
function expectedColumns(c: Case, e: Expected): Map<string, Value[]> {
  const columns = new Map<string, Value[]>();
  const rows = e.rows.length;
  for (const [name, tensor] of Object.entries(e.outputs)) {
    const { data } = tensor;
    const perRow = data.length / rows;
    const isLabel = c.labels !== undefined && perRow === 1 && name !== 'variable';
    const isProbability = c.labels !== undefined && perRow === c.labels.length;
    for (let j = 0; j < perRow; j++) {
      const column = isLabel
        ? 'prediction'
        : isProbability
          ? `probability_${(c.labels as string[])[j] as string}`
          : perRow === 1
            ? name
            : `${name}_${j}`;
      columns.set(
        column,
        Array.from({ length: rows }, (_, i) => data[i * perRow + j] as Value),
      );
    }
  }
  return columns;
}

function checkOutput(t: Test, c: Case, e: Expected, csv: string, what: string): void {
  const records = parse<Record<string, string>>(csv, { columns: true });
  t.equal(records.length, e.rows.length, `${what}: one output row per input row`);
  const inputColumns = Object.keys(records[0] ?? {}).slice(0, e.rows[0]?.length ?? 0);
  records.forEach((r, i) =>
    inputColumns.forEach((col, j) => {
      if (r[col] !== e.rows[i]?.[j]) t.fail(`${what}: row ${i} column ${col} passed through changed`);
    }),
  );
  const columns = expectedColumns(c, e);
  t.same(
    Object.keys(records[0] ?? {}).slice(inputColumns.length).sort(),
    [...columns.keys()].sort(),
    `${what}: output columns`,
  );
  let worst = 0;
  for (const [column, values] of columns) {
    records.forEach((r, i) => {
      const want = values[i] as Value;
      const got = r[column] ?? '';
      if (typeof want === 'number') {
        const diff = Number.isNaN(want) ? (got === 'NaN' ? 0 : Infinity) : Math.abs(Number(got) - want);
        worst = Math.max(worst, diff);
      } else if (got !== String(want)) t.fail(`${what}: row ${i} ${column} is ${got}, expected ${String(want)}`);
    });
  }
  t.ok(worst <= TOLERANCE, `${what}: every value within ${TOLERANCE} of onnxruntime (worst ${worst})`);
}

const cases = await Promise.all(CASES.map(async (c) => ({ c, e: await expected(c) })));

t.test('the server serves each model from its graph alone: metadata lists its real inputs and outputs', async (t) => {
  const url = await startServer(t, { models: REPO, workers: 1 });
  for (const { c } of cases) {
    const response = await fetch(`${url}/v2/models/${c.model}`);
    t.equal(response.status, 200, `${c.model} is served`);
    const meta = (await response.json()) as {
      inputs: { name: string }[];
      outputs: { name: string; datatype: string }[];
      properties: { contract: string };
    };
    const bytes = await readFile(join(REPO, c.model, '1', 'model.onnx'));
    const s = await session(bytes);
    t.same(
      meta.inputs.map((i) => i.name),
      [...s.inputNames],
      `${c.model}: metadata lists the graph's inputs`,
    );
    t.same(
      meta.outputs.map((o) => o.name),
      [...s.outputNames],
      `${c.model}: metadata lists the graph's outputs`,
    );
    for (const z of c.zipmap ?? [])
      t.equal(meta.outputs.find((o) => o.name === z)?.datatype, 'FP32', `${c.model}: ZipMap ${z} served as FP32`);
    t.equal((JSON.parse(meta.properties.contract) as { source: string }).source, 'graph', 'contract from the graph');
  }
});

t.test('OIP infer over JSON and binary answers as onnxruntime does, strings included', async (t) => {
  const url = await startServer(t, { models: REPO, workers: 1 });
  const { c, e } = cases.find((x) => x.c.model === 'titanic') as (typeof cases)[number];
  const rows = e.rows.slice(0, 4);
  const header = Object.keys(c.columns);
  const inputs = header.map((name, j) => {
    const values = rows.map((r) => r[j] as string);
    if (name === 'sex' || name === 'embarked') return { name, datatype: 'BYTES', shape: [4, 1], values };
    if (name === 'pclass' || name === 'sibsp')
      return { name, datatype: 'INT64', shape: [4, 1], values: values.map(Number) };
    return { name, datatype: 'FP32', shape: [4, 1], values: values.map((v) => (v === '' ? null : Number(v))) };
  });
  const json = await fetch(`${url}/v2/models/titanic/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: inputs.map(({ values, ...i }) => ({ ...i, data: values })) }),
  });
  t.equal(json.status, 200);
  const answer = (await json.json()) as { outputs: { name: string; data: number[] }[] };
  const probs = answer.outputs.find((o) => o.name === 'output_probability')?.data ?? [];
  const want = (e.outputs.output_probability?.data ?? []).slice(0, 8);
  t.ok(
    probs.every((p, i) => Math.abs(p - (want[i] as number)) <= TOLERANCE),
    'JSON probabilities',
  );
  t.same(
    answer.outputs.find((o) => o.name === 'output_label')?.data,
    (e.outputs.output_label?.data ?? []).slice(0, 4).map(Number),
    'JSON labels',
  );

  // Binary: each tensor's bytes by hand (BYTES: 4-byte little-endian length, then the bytes).
  const blobs = inputs.map((i) => {
    if (i.datatype === 'BYTES')
      return Buffer.concat(
        (i.values as string[]).map((s) => {
          const b = Buffer.from(s);
          const len = Buffer.alloc(4);
          len.writeUInt32LE(b.length);
          return Buffer.concat([len, b]);
        }),
      );
    if (i.datatype === 'INT64') return Buffer.from(BigInt64Array.from((i.values as number[]).map(BigInt)).buffer);
    return Buffer.from(Float32Array.from((i.values as (number | null)[]).map((v) => v ?? Number.NaN)).buffer);
  });
  const head = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((i, j) => ({
        name: i.name,
        datatype: i.datatype,
        shape: i.shape,
        parameters: { binary_data_size: (blobs[j] as Buffer).length },
      })),
      outputs: [{ name: 'output_probability', parameters: { binary_data: true } }],
    }),
  );
  const binary = await fetch(`${url}/v2/models/titanic/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) },
    body: Buffer.concat([head, ...blobs]),
  });
  t.equal(binary.status, 200);
  const body = Buffer.from(await binary.arrayBuffer());
  const length = Number(binary.headers.get('inference-header-content-length'));
  const data = body.subarray(length);
  const got = Array.from({ length: data.length / 4 }, (_, i) => data.readFloatLE(i * 4));
  t.ok(
    got.length === 8 && got.every((p, i) => Math.abs(p - (want[i] as number)) <= TOLERANCE),
    'binary probabilities',
  );
});

t.test('batch-infer run scores each model in process and over every protocol, as onnxruntime does', async (t) => {
  const dir = await tempDir(t);
  const url = await startServer(t, { models: REPO, workers: 1 });
  for (const { c, e } of cases) {
    const input = join(DATA, `${c.model}.csv`);
    const run = async (what: string, options: Record<string, unknown>): Promise<string> => {
      const output = join(dir, `${c.model}.${what}.csv`);
      await createPipeline({
        input,
        output,
        model: c.model,
        models: REPO,
        summary: false,
        ...(c.features === undefined ? {} : { features: c.features }),
        ...options,
      });
      return readFile(output, 'utf8');
    };
    const local = await run('local', {});
    checkOutput(t, c, e, local, `${c.model} local`);
    for (const protocol of ['v2-json', 'v2-binary'])
      t.equal(await run(protocol, { url, protocol }), local, `${c.model}: ${protocol} output byte-identical to local`);
    // SageMaker and Vertex containers serve one model: a server whose default model is this one.
    const single = await startServer(t, { models: REPO, workers: 1, defaultModel: c.model });
    for (const protocol of ['vertex', 'sagemaker'])
      t.equal(
        await run(protocol, { url: single, protocol }),
        local,
        `${c.model}: ${protocol} output byte-identical to local`,
      );
  }
});

t.test('rows with cells that do not parse for their input go to the rejects with the column', async (t) => {
  const dir = await tempDir(t);
  for (const { c } of cases) {
    const output = join(dir, `${c.model}.csv`);
    const rejects = join(dir, `${c.model}.rejects.csv`);
    const summary = await createPipeline({
      input: join(DATA, `${c.model}.bad.csv`),
      output,
      rejects,
      model: c.model,
      models: REPO,
      summary: false,
      maxRejectRatio: 1,
      ...(c.features === undefined ? {} : { features: c.features }),
    });
    const rejected = parse<Record<string, string>>(await readFile(rejects, 'utf8'), { columns: true });
    t.same(
      rejected.map((r) => Number(r.line)),
      c.badLines,
      `${c.model}: the bad lines are rejected, the others scored`,
    );
    t.ok(
      rejected.every((r) => /column "|expected \d+ fields/.test(r.error ?? '')),
      `${c.model}: each reason names the column (or the field count)`,
    );
    t.equal(summary.rows.read, summary.rows.scored + summary.rows.rejected, 'read = scored + rejected');
  }
});

t.test('a reference profile made for other columns is refused, naming both lists', async (t) => {
  const dir = await tempDir(t);
  const { cp, writeFile } = await import('node:fs/promises');
  await cp(join(REPO, 'titanic'), join(dir, 'titanic'), { recursive: true });
  const profile = (name: string) => ({ name, count: 1, missing_ratio: 0, min: 0, max: 1, mean: 0, std: 0, edges: [], proportions: [1] });
  await writeFile(
    join(dir, 'titanic', '1', 'model.json'),
    JSON.stringify({ format: 1, name: 'titanic', reference: { rows: 1, features: [profile('wind')], predictions: {} } }),
  );
  await t.rejects(
    createPipeline({ input: join(DATA, 'titanic.csv'), output: join(dir, 'out.csv'), model: 'titanic', models: dir }),
    { code: 'BI_ERR_MODEL_CONTRACT', message: /describes wind, but the run reads pclass, age, sibsp, fare/ },
  );
});
