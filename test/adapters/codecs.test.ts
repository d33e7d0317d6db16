import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline, readModelVersion, BUNDLED_MODELS_DIR } from '../../lib/index.js';
import { sagemakerCodec } from '../../lib/adapters/sagemaker.js';
import { v2BinaryCodec } from '../../lib/adapters/v2-binary.js';
import { vertexCodec } from '../../lib/adapters/vertex.js';
import type { Tensor } from '../../lib/core/tensor.js';
import { mockProbabilities } from '../../testing/index.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const K = contract.labels.length;
const OUTPUTS = ['probabilities'];
const tensor = Float32Array.from([0.5, -1.25, 3, 0.1, 2, -0.3, 1, 2, 3, 4, 5, 6]);
/** Two rows of weather's input. */
const inputs: Tensor[] = [{ name: 'features', datatype: 'FP32', shape: [2, 6], data: tensor }];

/** The only output of a decoded answer, which must be weather's probabilities for `rows` rows. */
function probabilitiesOf(outputs: Tensor[], rows: number): number[] {
  if (outputs.length !== 1) throw new Error(`expected one output, got ${outputs.length}`);
  const [out] = outputs as [Tensor];
  if (out.name !== 'probabilities' || out.datatype !== 'FP32' || String(out.shape) !== String([rows, K]))
    throw new Error(`unexpected output ${out.name} ${out.datatype} [${String(out.shape)}]`);
  return Array.from(out.data as Float32Array);
}

function binaryBody(header: object, floats: number[]): { headers: Record<string, string>; body: Buffer } {
  const json = Buffer.from(JSON.stringify(header));
  const bytes = Buffer.alloc(floats.length * 4);
  floats.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return {
    headers: { 'inference-header-content-length': String(json.length) },
    body: Buffer.concat([json, bytes]),
  };
}

t.test('v2-binary: a JSON header, then the little-endian FP32 bytes', async (t) => {
  const codec = v2BinaryCodec(contract, 1, OUTPUTS);
  const req = codec.encode(inputs);
  t.equal(req.path, '/v2/models/weather/versions/1/infer');
  const body = Buffer.from(req.body as Uint8Array);
  const length = Number(req.headers['inference-header-content-length']);
  t.same(JSON.parse(body.subarray(0, length).toString()), {
    inputs: [{ name: 'features', shape: [2, 6], datatype: 'FP32', parameters: { binary_data_size: 48 } }],
    outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
  });
  const bytes = body.subarray(length);
  t.same(
    Array.from({ length: 12 }, (_, i) => bytes.readFloatLE(i * 4)),
    Array.from(tensor),
  );

  const probs = [0.1, 0.2, 0.3, 0.2, 0.2, 0.5, 0.1, 0.1, 0.1, 0.2];
  const { headers, body: answer } = binaryBody(
    {
      outputs: [
        { name: 'other', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } },
        { name: 'probabilities', datatype: 'FP32', shape: [2, 5], parameters: { binary_data_size: 40 } },
      ],
    },
    [42, ...probs],
  );
  const decoded = codec.decode({ status: 200, headers, body: answer }, 2);
  t.same(
    probabilitiesOf(decoded, 2),
    Array.from(Float32Array.from(probs)),
    'skips the blob of an output before it',
  );
  const json = Buffer.from(
    JSON.stringify({ outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2, 5], data: probs }] }),
  );
  t.same(
    probabilitiesOf(codec.decode({ status: 200, headers: {}, body: json }, 2), 2),
    Array.from(Float32Array.from(probs)),
    'reads a JSON answer too',
  );
  t.throws(
    () =>
      codec.decode({ status: 200, headers: { 'inference-header-content-length': '9999' }, body: json }, 2),
    {
      code: 'BI_ERR_BAD_RESPONSE',
      message: /Invalid Inference-Header-Content-Length "9999"/,
    },
  );
  t.throws(() => codec.decode({ status: 200, headers, body: answer.subarray(0, answer.length - 8) }, 2), {
    code: 'BI_ERR_BAD_RESPONSE',
    message: /claims 40 binary bytes/,
  });
});

t.test('vertex: instances in, predictions (lists or objects) out', async (t) => {
  const codec = vertexCodec(contract, OUTPUTS);
  const req = codec.encode(inputs);
  t.equal(req.path, '/predict');
  // Each value with the 9 significant digits that give back its float32.
  const sent = JSON.parse(String(req.body)) as { instances: number[][] };
  t.same(
    { instances: sent.instances.map((row) => row.map(Math.fround)) },
    { instances: [Array.from(tensor.subarray(0, 6)), Array.from(tensor.subarray(6))] },
  );
  t.equal(vertexCodec(contract, OUTPUTS, '/custom/predict').encode(inputs).path, '/custom/predict');
  const lists = Buffer.from(
    JSON.stringify({
      predictions: [
        [1, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
      ],
    }),
  );
  t.same(
    probabilitiesOf(codec.decode({ status: 200, headers: {}, body: lists }, 2), 2),
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  );
  // AutoML-style objects name their classes; they are put in the model's label order.
  const objects = Buffer.from(
    JSON.stringify({
      predictions: [
        { classes: ['sun', 'snow', 'rain', 'fog', 'drizzle'], scores: [0.5, 0.2, 0.1, 0.1, 0.1] },
        { probabilities: [0.2, 0.2, 0.2, 0.2, 0.2] },
      ],
    }),
  );
  t.same(
    probabilitiesOf(codec.decode({ status: 200, headers: {}, body: objects }, 2), 2),
    Array.from(Float32Array.from([0.1, 0.1, 0.1, 0.2, 0.5, 0.2, 0.2, 0.2, 0.2, 0.2])),
  );
  t.throws(() => codec.decode({ status: 200, headers: {}, body: lists }, 3), {
    message: /2 predictions for 3 instances/,
  });
  t.throws(
    () => codec.decode({ status: 200, headers: {}, body: Buffer.from('{"predictions":[[1,2]]}') }, 1),
    {
      message: /Prediction 0 is not 5 numbers: \[1,2\]/,
    },
  );
});

t.test('sagemaker: JSON feature instances in, JSON (or CSV) predictions out', async (t) => {
  const codec = sagemakerCodec(contract, OUTPUTS);
  const req = codec.encode(inputs);
  t.equal(req.path, '/invocations');
  t.same(req.headers, { 'content-type': 'application/json', accept: 'application/json' });
  t.equal(String(req.body), '{"instances":[[0.5,-1.25,3,0.100000001,2,-0.300000012],[1,2,3,4,5,6]]}');
  const p = [0.1, 0.2, 0.3, 0.2, 0.2];
  for (const body of [JSON.stringify({ predictions: [p, p] }), JSON.stringify([p, p])])
    t.same(
      probabilitiesOf(
        codec.decode(
          { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) },
          2,
        ),
        2,
      ),
      Array.from(Float32Array.from([...p, ...p])),
    );
  const csv = Buffer.from(`${p.join(',')}\r\n${p.join(',')}\r\n`);
  t.same(
    probabilitiesOf(codec.decode({ status: 200, headers: { 'content-type': 'text/csv' }, body: csv }, 2), 2),
    Array.from(Float32Array.from([...p, ...p])),
  );
});

interface WireServer {
  url: string;
  seen: string[];
}

/**
 * A model server of this test's own that speaks every wire format from its specification, answering the
 * mock's deterministic probabilities; `v2` false makes it a bare SageMaker/Vertex container (no /v2 routes).
 */
async function wireServer(
  t: Test,
  options: { extensions?: string[]; v2?: boolean; jsonAnswers?: boolean } = {},
): Promise<WireServer> {
  const seen: string[] = [];
  const answer = (features: number[][]) => features.map((f) => mockProbabilities(f, K));
  const send = (res: ServerResponse, body: unknown, type = 'application/json'): true => {
    res.writeHead(200, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
    return true;
  };
  const rowsOf = (flat: number[], width: number) =>
    Array.from({ length: flat.length / width }, (_, i) => flat.slice(i * width, (i + 1) * width));
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const v2 = options.v2 ?? true;
    if (req.method === 'GET' && req.url === '/v2' && v2)
      return send(res, { name: 'wire', extensions: options.extensions ?? [] });
    if (req.method === 'GET' && req.url === '/v2/models/weather' && v2)
      return send(res, {
        name: 'weather',
        versions: ['1'],
        properties: { contract: JSON.stringify(contract) },
      });
    if (req.method === 'POST' && req.url === '/v2/models/weather/infer') {
      const headerLength = req.headers['inference-header-content-length'];
      if (headerLength === undefined) {
        seen.push('v2-json');
        const input = (JSON.parse(body.toString()) as { inputs: { data: number[]; shape: number[] }[] })
          .inputs[0]!;
        return send(res, {
          outputs: [
            {
              name: 'probabilities',
              datatype: 'FP32',
              shape: [input.shape[0], K],
              // An FP32 tensor's values are float32s, whatever digits the JSON wrote them with.
              data: answer(rowsOf(input.data.map(Math.fround), input.shape[1]!)).flat(),
            },
          ],
        });
      }
      seen.push('v2-binary');
      const n = Number(headerLength);
      const header = JSON.parse(body.subarray(0, n).toString()) as {
        inputs: { shape: number[]; datatype: string; parameters: { binary_data_size: number } }[];
      };
      const input = header.inputs[0]!;
      const bytes = body.subarray(n, n + input.parameters.binary_data_size);
      const flat = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
      const probs = answer(rowsOf(flat, input.shape[1]!)).flat();
      if (options.jsonAnswers === true)
        return send(res, {
          outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [input.shape[0], K], data: probs }],
        });
      const out = binaryBody(
        {
          outputs: [
            {
              name: 'probabilities',
              datatype: 'FP32',
              shape: [input.shape[0], K],
              parameters: { binary_data_size: probs.length * 4 },
            },
          ],
        },
        probs,
      );
      res.writeHead(200, { 'content-type': 'application/octet-stream', ...out.headers });
      res.end(out.body);
      return true;
    }
    if (req.method === 'POST' && req.url === '/predict') {
      seen.push('vertex');
      const { instances } = JSON.parse(body.toString()) as { instances: number[][] };
      return send(res, { predictions: answer(instances.map((row) => row.map(Math.fround))) });
    }
    if (req.method === 'POST' && req.url === '/invocations') {
      seen.push(`sagemaker ${req.headers['content-type'] ?? ''} ${req.headers.accept ?? ''}`);
      const { instances } = JSON.parse(body.toString()) as { instances: number[][] };
      return send(res, { predictions: answer(instances.map((row) => row.map(Math.fround))) });
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no route ${req.method ?? ''} ${req.url ?? ''}` }));
    return true;
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

t.test('every protocol scores the same file to the same bytes', async (t) => {
  const dir = await tempDir(t);
  const outputs: Buffer[] = [];
  for (const protocol of ['v2-json', 'v2-binary', 'vertex', 'sagemaker'] as const) {
    const server = await wireServer(t);
    const output = join(dir, `${protocol}.csv`);
    const summary = await createPipeline({
      input: WEATHER_CSV,
      output,
      url: server.url,
      protocol,
      batchSize: 300,
    });
    t.equal(summary.protocol, protocol);
    t.equal(summary.rows.scored, 2922);
    t.ok(
      server.seen.length === 10 && server.seen.every((s) => s.startsWith(protocol)),
      `${protocol}: ${server.seen[0] ?? ''}`,
    );
    outputs.push(await readFile(output));
  }
  t.ok(
    outputs.every((o) => o.equals(outputs[0]!)),
    'byte-identical outputs',
  );
  const server = await wireServer(t, { jsonAnswers: true });
  await createPipeline({
    input: WEATHER_CSV,
    output: join(dir, 'mixed.csv'),
    url: server.url,
    protocol: 'v2-binary',
  });
  t.ok((await readFile(join(dir, 'mixed.csv'))).equals(outputs[0]!), 'a JSON answer to a binary request');
});

t.test('the default is v2-binary exactly when the server lists binary_tensor_data', async (t) => {
  const dir = await tempDir(t);
  const plain = await wireServer(t, { extensions: ['model_repository'] });
  t.equal(
    (await createPipeline({ input: WEATHER_CSV, output: join(dir, 'a.csv'), url: plain.url })).protocol,
    'v2-json',
  );
  t.equal(plain.seen[0], 'v2-json');
  const binary = await wireServer(t, { extensions: ['binary_tensor_data', 'model_repository'] });
  t.equal(
    (await createPipeline({ input: WEATHER_CSV, output: join(dir, 'b.csv'), url: binary.url })).protocol,
    'v2-binary',
  );
  t.equal(binary.seen[0], 'v2-binary');
});

t.test('a bare SageMaker or Vertex container: the contract comes from the local repository', async (t) => {
  const dir = await tempDir(t);
  const bare = await wireServer(t, { v2: false });
  const summary = await createPipeline({
    input: WEATHER_CSV,
    output: join(dir, 's.csv'),
    url: bare.url,
    protocol: 'sagemaker',
  });
  t.same(summary.model, { name: 'weather', version: 1 });
  t.equal(summary.rows.scored, 2922);
  t.equal(bare.seen[0], 'sagemaker application/json application/json');
});
