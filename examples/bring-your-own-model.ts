// Bring your own model: a scikit-learn pipeline exported by skl2onnx (six named inputs, strings among them, a
// ZipMap output), with no model.json — profiled for drift, served, and used to score a CSV over HTTP.
import { strict as assert } from 'node:assert';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline, profileModel, readModelVersion } from 'batch-infer';
import { createModelServer } from 'batch-infer/server';

// A model repository: <repo>/<model>/<version>/model.onnx, as `batch-infer serve` and Triton read it.
const fixtures = new URL('../test/fixtures/models/', import.meta.url).pathname;
const repo = await mkdtemp(join(tmpdir(), 'byom-'));
await cp(join(fixtures, 'titanic', '1', 'model.onnx'), join(repo, 'titanic', '1', 'model.onnx'), {
  recursive: true,
});
const data = join(fixtures, 'data', 'titanic.csv');

// The contract comes from the graph: each input is read from the column of its name.
const { contract } = await readModelVersion(repo, 'titanic');
assert.deepEqual(
  contract.inputs.map((i) => `${i.name}:${i.datatype}`),
  ['pclass:INT64', 'sex:BYTES', 'age:FP32', 'sibsp:INT64', 'fare:FP32', 'embarked:BYTES'],
);
assert.deepEqual(contract.labels, ['0', '1']); // from the ZipMap's class labels

// A reference profile from training data, written into <repo>/titanic/1/model.json, turns drift checks on.
await profileModel({ models: repo, model: 'titanic', input: [data] });

const modelServer = createModelServer({ models: repo });
const handle = modelServer.app.callback();
const http = createServer((req, res) => void handle(req, res));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
await modelServer.loaded;
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

const output = join(repo, 'scored.csv');
const summary = await createPipeline({ input: data, output, url, model: 'titanic' });
const [header] = (await readFile(output, 'utf8')).split('\n');
assert.equal(header, 'pclass,sex,age,sibsp,fare,embarked,prediction,probability_0,probability_1');
assert.equal(summary.drift?.dataset_drift, false); // the training data does not drift from itself
console.log(
  `${summary.rows.scored} rows scored by titanic over ${summary.protocol}; drift checked on ${summary.drift.features.length} features`,
);

await new Promise((resolve) => http.close(resolve));
await modelServer.close();
