// Serve the bundled models over the Open Inference Protocol and score a file against the server over HTTP.
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from 'batch-infer';
import { createModelServer } from 'batch-infer/server';

const modelServer = createModelServer();
const handle = modelServer.app.callback();
const http = createServer((req, res) => void handle(req, res));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
await modelServer.loaded;
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

// One request by hand: six standardized features in, five class probabilities out.
const response = await fetch(`${url}/v2/models/weather/infer`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
  }),
});
const { outputs } = (await response.json()) as { outputs: { name: string; shape: number[] }[] };
assert.deepEqual(outputs[0]?.shape, [1, 5]);

// A whole file through the pipeline, 128 rows per request, 4 requests in flight.
const dir = await mkdtemp(join(tmpdir(), 'example-'));
const summary = await createPipeline({
  input: new URL('../data/weather.csv', import.meta.url).pathname,
  output: join(dir, 'scored.csv'),
  url,
  model: 'weather',
  batchSize: 128,
  concurrency: 4,
});
assert.equal(summary.rows.scored, 2922);
console.log(`${summary.rows.scored} rows scored over HTTP at ${summary.throughput_rows_per_s} rows/s`);

await new Promise((resolve) => http.close(resolve));
await modelServer.close();
