/**
 * Fuzzing the Open Inference Protocol inference route, JSON and binary (issue #10 point 4): malformed JSON,
 * arbitrary JSON, requests of every shape, datatype and length (huge, negative and fractional dimensions
 * included), nesting far deeper than any shape, and binary bodies whose Inference-Header-Content-Length and
 * binary_data_size lie. Generated requests may happen to be valid (200); every other answer is a 4xx
 * `{"error"}` that gives nothing of the server away.
 */
import t from 'tap';
import fc from 'fast-check';
import { tempDir } from '../helpers.js';
import { copyWeather, lookupModel, LOOKUP_CONTRACT, writeModel } from './model-fixtures.js';
import {
  FUZZ_SEED,
  fuzzServer,
  moderateJson,
  runs,
  unrepresentable,
  type FuzzServer,
} from './fuzz-client.js';

const ROUTES = ['/v2/models/weather/infer', '/v2/models/weather/versions/1/infer'];
const DATATYPES = ['BOOL', 'UINT8', 'INT8', 'INT32', 'INT64', 'UINT64', 'FP16', 'FP32', 'FP64', 'BYTES'];

const anything = moderateJson(2);
const route = fc.constantFrom(...ROUTES);
const dimension = fc.oneof(
  { arbitrary: fc.integer({ min: -2, max: 8 }), weight: 4 },
  fc.constantFrom(6, -1, 0, 2 ** 31, 2 ** 32 + 6, 2 ** 53, 1e300, 0.5, -0),
  anything,
);
const element = fc.oneof(
  { arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }), weight: 4 },
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.boolean(),
  fc.constantFrom(null, '1', 2 ** 64),
  unrepresentable,
  anything,
);
const { nested } = fc.letrec<{ nested: unknown }>((tie) => ({
  nested: fc.oneof({ depthSize: 'small' }, element, fc.array(tie('nested'), { maxLength: 7 })),
}));
const data = fc.oneof(
  { arbitrary: fc.array(element, { maxLength: 30 }), weight: 3 },
  fc
    .integer({ min: 0, max: 4 })
    .chain((rows) =>
      fc.array(fc.array(element, { minLength: 6, maxLength: 6 }), { minLength: rows, maxLength: rows }),
    ),
  nested,
  anything,
);
/** Random values for any field of an input, an output or the request. */
const inputFields = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 8 }), anything),
    shape: fc.oneof({ arbitrary: fc.array(dimension, { maxLength: 4 }), weight: 4 }, anything),
    datatype: fc.oneof({ arbitrary: fc.constantFrom(...DATATYPES), weight: 4 }, anything),
    data,
    parameters: fc.oneof(
      fc.record({ binary_data_size: fc.oneof(fc.nat(64), anything) }, { requiredKeys: [] }),
      anything,
    ),
  },
  { requiredKeys: [] },
);
/** Mostly nothing, else a few of an input's fields replaced: requests stay near valid and reach deep code. */
const mutation = fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, inputFields);

/** Mostly values float32 holds; sometimes values it cannot hold (and that must be refused). */
const number = fc.oneof(
  { arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }), weight: 12 },
  unrepresentable,
);
/** A valid input of 0 to 4 rows, flat or nested, then perhaps mutated. */
const input = fc
  .integer({ min: 0, max: 4 })
  .chain((rows) =>
    fc.tuple(
      fc.constant(rows),
      fc.array(number, { minLength: rows * 6, maxLength: rows * 6 }),
      fc.boolean(),
      mutation,
    ),
  )
  .map(([rows, values, nest, changes]) => ({
    name: 'features',
    shape: [rows, 6],
    datatype: 'FP32',
    data: nest ? Array.from({ length: rows }, (_, i) => values.slice(i * 6, i * 6 + 6)) : values,
    ...changes,
  }));
const output = fc.record(
  {
    name: fc.oneof({ arbitrary: fc.constant('probabilities'), weight: 6 }, fc.string({ maxLength: 8 })),
    parameters: fc.oneof(
      {
        arbitrary: fc.record({ binary_data: fc.oneof({ arbitrary: fc.boolean(), weight: 6 }, anything) }),
        weight: 6,
      },
      anything,
    ),
  },
  { requiredKeys: [] },
);
/** Any inference request, from valid to nonsense. */
const inferRequest = fc.record(
  {
    id: fc.oneof({ arbitrary: fc.string({ maxLength: 12 }), weight: 4 }, anything),
    inputs: fc.oneof(
      { arbitrary: input.map((one) => [one]), weight: 6 },
      fc.array(input, { minLength: 2, maxLength: 3 }),
      anything,
    ),
    outputs: fc.oneof({ arbitrary: fc.array(output, { maxLength: 3 }), weight: 4 }, anything),
    parameters: fc.oneof(
      { arbitrary: fc.record({ binary_data_output: fc.oneof(fc.boolean(), anything) }), weight: 4 },
      anything,
    ),
  },
  { requiredKeys: ['inputs'] },
);
/**
 * A binary request: its one input's data as float32 bytes after the JSON header, with `binary_data_size`,
 * the bytes actually sent and the header length each perhaps off.
 */
const binaryRequest = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.integer({ min: -8, max: 8 })),
    fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.integer({ min: -8, max: 8 })),
    fc.oneof(
      { arbitrary: fc.constant(0), weight: 4 },
      fc.integer({ min: -8, max: 8 }),
      fc.constantFrom(
        -1_000_000,
        2 ** 40,
        '-1',
        'abc',
        '1e3',
        ' 5',
        '0x10',
        '99999999999999999999999',
        '3, 4',
        '',
      ),
    ),
    mutation,
    fc.option(fc.array(output, { maxLength: 2 }), { nil: undefined }),
  )
  .map(([rows, sizeLie, bytesLie, headerLie, changes, outputs]) => {
    const bytes = Buffer.from(new Float32Array(rows * 6).fill(0.5).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'features',
            shape: [rows, 6],
            datatype: 'FP32',
            parameters: { binary_data_size: bytes.length + sizeLie },
            ...changes,
          },
        ],
        ...(outputs === undefined ? {} : { outputs }),
      }),
    );
    const blob = bytesLie >= 0 ? Buffer.concat([bytes, Buffer.alloc(bytesLie)]) : bytes.subarray(0, bytesLie);
    const length = typeof headerLie === 'number' ? String(header.length + headerLie) : headerLie;
    return { length, body: Buffer.concat([header, blob]) };
  });

const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });

async function properties(server: FuzzServer, seed: number, scale: number): Promise<void> {
  const post = (path: string, headers: Record<string, string>, body: string | Uint8Array, ok = false) =>
    server.expect({ method: 'POST', path, headers, body }, ok);
  const options = (n: number) => ({ seed, numRuns: Math.max(1, Math.round(runs(n) * scale)) });

  // Bytes that are not JSON, and JSON that is not a request.
  await fc.assert(
    fc.asyncProperty(
      route,
      fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array()),
      (path, body) => post(path, { 'content-type': 'application/json' }, body).then(() => undefined),
    ),
    options(150),
  );
  await fc.assert(
    fc.asyncProperty(route, fc.jsonValue({ maxDepth: 6 }), (path, value) =>
      post(path, {}, JSON.stringify(value)).then(() => undefined),
    ),
    options(150),
  );

  // Requests of every shape, datatype and length; some are valid and answered 200.
  await fc.assert(
    fc.asyncProperty(route, inferRequest, async (path, request) => {
      const { body } = json(request);
      const answer = await post(path, { 'content-type': 'application/json' }, body, true);
      if (answer.status !== 200) return;
      const header = answer.headers['inference-header-content-length'];
      const text = header === undefined ? answer.text : answer.text.slice(0, Number(header));
      if (!/"outputs":\[/.test(text)) throw new Error(`200 without outputs: ${text.slice(0, 200)}`);
      // Inputs are moderate or unrepresentable (fuzz-client.ts): a NaN (null in JSON) means one got through.
      if (/\bnull\b/.test(text)) throw new Error(`200 with a non-number output: ${text.slice(0, 300)}`);
    }),
    options(400),
  );

  // Nesting far deeper than any shape, wherever a list may appear.
  const where = fc.constantFrom('data', 'shape', 'inputs', 'outputs', 'parameters', 'body');
  await fc.assert(
    fc.asyncProperty(route, where, fc.integer({ min: 1_000, max: 150_000 }), async (path, place, depth) => {
      const deep = '['.repeat(depth) + ']'.repeat(depth);
      const bodies: Record<string, string> = {
        data: `{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":${deep}}]}`,
        shape: `{"inputs":[{"name":"features","shape":${deep},"datatype":"FP32","data":[1,2,3,4,5,6]}]}`,
        inputs: `{"inputs":${deep}}`,
        outputs: `{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":[1,2,3,4,5,6]}],"outputs":${deep}}`,
        parameters: `{"inputs":[],"parameters":{"x":${deep}}}`,
        body: deep,
      };
      await post(path, {}, bodies[place] ?? deep);
    }),
    options(40),
  );

  // Binary bodies: a JSON header, then bytes; the header's length and the inputs' sizes may lie.
  await fc.assert(
    fc.asyncProperty(route, binaryRequest, async (path, { length, body }) => {
      await post(
        path,
        { 'content-type': 'application/octet-stream', 'inference-header-content-length': length },
        body,
        true,
      );
    }),
    options(300),
  );

  // Raw binary requests (Inference-Header-Content-Length: 0): the body is the one input's bytes.
  await fc.assert(
    fc.asyncProperty(route, fc.uint8Array({ maxLength: 60 }), async (path, blob) => {
      const answer = await post(path, { 'inference-header-content-length': '0' }, blob, true);
      if (answer.status === 200 && blob.length !== 24) throw new Error(`${blob.length} bytes answered 200`);
    }),
    options(60),
  );
}

t.test(
  'OIP V2 inference answers every malformed request with a 4xx {"error"}, and leaks nothing',
  async (t) => {
    const server = await fuzzServer(t, { maxBodyBytes: 1024 * 1024 });
    await properties(server, FUZZ_SEED + 1, 0.25);
    await server.baseline();
    await properties(server, FUZZ_SEED, 1);
    await server.finish();
  },
);

t.test('values a datatype cannot hold are refused, not wrapped, truncated or overflowed', async (t) => {
  const models = await tempDir(t);
  await copyWeather(models);
  await writeModel(models, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  const server = await fuzzServer(t, { models });
  const row = (v: unknown) => [v, 0, 0, 0, 0, 0];
  const cases: [string, string, unknown[], number][] = [
    ['weather', 'features', row(3.4e38), 200],
    ['weather', 'features', row(1e39), 400],
    ['weather', 'features', row(-1e39), 400],
    ['lookup', 'i', [2], 200],
    ['lookup', 'i', [1.5], 400],
    ['lookup', 'i', [2 ** 63], 400],
    ['lookup', 'i', ['2'], 400],
    ['lookup', 'i', [true], 400],
  ];
  for (const [model, name, data, status] of cases) {
    const datatype = model === 'lookup' ? 'INT64' : 'FP32';
    const answer = await server.expect(
      {
        method: 'POST',
        path: `/v2/models/${model}/infer`,
        body: JSON.stringify({ inputs: [{ name, datatype, shape: [1, data.length], data }] }),
      },
      status === 200,
    );
    t.equal(answer.status, status, `${datatype} ${JSON.stringify(data[0])}: ${answer.text.slice(0, 120)}`);
  }
  await server.finish();
});
