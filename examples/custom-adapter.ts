// A protocol adapter for a model API batch-infer does not know: an HttpCodec (encode a batch, decode the
// answer) under the shared HTTP transport, which brings keep-alive, timeouts, retries and row bisection.
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BUNDLED_MODELS_DIR,
  Batcher,
  ModelScorer,
  Postprocessor,
  Preprocessor,
  createCsvParser,
  createHttpScorer,
  planInputs,
  readModelVersion,
  type HttpCodec,
  type Tensor,
  type TensorSpec,
} from 'batch-infer';

// The API: POST /predict/<model> {"rows": [[…features…], …]} → {"scores": [[…one per label…], …]}.
// Here a stand-in server answers "sun" with certainty; a real one would run the model.
const api = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const { rows } = JSON.parse(body) as { rows: number[][] };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ scores: rows.map(() => [0, 0, 0, 0, 1]) }));
  });
});
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');

// The adapter: 2 functions over tensors ({ name, datatype, shape, data }, rows first, row-major). encode gets
// the batch's inputs (weather has one, `features`: rows × 6 float32s); decode returns the outputs the run reads
// (weather's `probabilities`: rows × labels, in the model's label order).
const codec: HttpCodec = {
  name: 'my-api',
  encode(inputs) {
    const [{ shape, data }] = inputs as [Tensor];
    const [rows = 0, width = 1] = shape;
    const values = Array.from(data as Float32Array);
    return {
      path: `/predict/${contract.name}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rows: Array.from({ length: rows }, (_, i) => values.slice(i * width, (i + 1) * width)),
      }),
    };
  },
  decode(response, rows) {
    const { scores } = JSON.parse(response.body.toString('utf8')) as { scores: number[][] };
    assert.equal(scores.length, rows);
    const [output] = contract.outputs as [TensorSpec];
    const k = contract.labels.length;
    return [
      { name: output.name, datatype: 'FP32', shape: [rows, k], data: Float32Array.from(scores.flat()) },
    ];
  },
};

const scorer = createHttpScorer({ url, codec, retries: 2 });
const preprocessor = new Preprocessor({ plan: planInputs(contract) });
const records: string[][] = [];
await pipeline(
  Readable.from([
    'location,date,precipitation,temp_max,temp_min,wind\n',
    'Seattle,2016-07-04,0,27.8,14.4,2.9\n',
    'Seattle,2016-07-05,0,28.1,15.0,3.1\n',
  ]),
  createCsvParser(),
  preprocessor,
  new Batcher({ batchSize: 64 }),
  new ModelScorer({ scorer }),
  new Postprocessor({ labels: contract.labels, inputColumns: () => preprocessor.columns }),
  new Writable({
    objectMode: true,
    write(record: string[], _encoding, done) {
      records.push(record);
      done();
    },
  }),
);
await scorer.close();
await new Promise((resolve) => api.close(resolve));

assert.equal(records.length, 3, 'header + two scored rows');
assert.deepEqual(
  records.slice(1).map((r) => r[6]),
  ['sun', 'sun'],
);
console.log(records[1]);
