import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import t from 'tap';
import { validateContract } from '../../lib/core/model-contract.js';
import { loadWeatherData } from '../../training/data.js';
import { contractJson, trainWeatherModel } from '../../training/train.js';

const committedDir = new URL('../../models/weather/1/', import.meta.url);
const data = loadWeatherData();
// Training takes seconds; every subtest checks the same run.
const trained = await trainWeatherModel();
const session = await InferenceSession.create(Buffer.from(trained.onnx));
const committed = await InferenceSession.create(readFileSync(new URL('model.onnx', committedDir)));
t.teardown(async () => {
  await session.release();
  await committed.release();
});

async function onnxProbabilities(
  features: Float32Array,
  rows: number,
  model: InferenceSession = session,
): Promise<Float32Array> {
  const out = await model.run({ features: new Tensor('float32', features, [rows, features.length / rows]) });
  return out.probabilities?.data as Float32Array;
}

for (const [name, set] of Object.entries(data.eval)) {
  t.test(`ONNX export matches the tfjs model on ${name}`, async (t) => {
    const fromTf = tf.tidy(() =>
      (
        trained.model.predict(tf.tensor2d(set.features, [set.rows, data.specs.length])) as tf.Tensor
      ).dataSync(),
    );
    const fromOnnx = await onnxProbabilities(set.features, set.rows);
    t.equal(fromOnnx.length, set.rows * trained.contract.labels.length);
    let worst = 0;
    fromOnnx.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - (fromTf[i] as number)))));
    t.ok(worst <= 1e-5, `largest difference ${worst}`);
  });

  t.test(`the committed model's probabilities sum to 1 on ${name}`, async (t) => {
    const probabilities = await onnxProbabilities(set.features, set.rows, committed);
    const k = trained.contract.labels.length;
    let worst = 0;
    for (let i = 0; i < set.rows; i++) {
      worst = Math.max(
        worst,
        Math.abs(probabilities.subarray(i * k, (i + 1) * k).reduce((a, b) => a + b, 0) - 1),
      );
    }
    t.ok(worst <= 1e-5, `largest deviation ${worst}`);
  });
}

t.test('training reproduces the committed model byte for byte', (t) => {
  t.ok(
    Buffer.from(trained.onnx).equals(readFileSync(new URL('model.onnx', committedDir))),
    'model.onnx is identical',
  );
  t.equal(
    contractJson(trained.contract),
    readFileSync(new URL('model.json', committedDir), 'utf8'),
    'model.json is identical',
  );
  t.end();
});

t.test('the committed model.json is a valid contract for the ONNX graph', (t) => {
  const contract = validateContract(
    JSON.parse(readFileSync(new URL('model.json', committedDir), 'utf8')),
    'weather',
  );
  t.same(contract.labels, ['drizzle', 'fog', 'rain', 'snow', 'sun']);
  t.same(
    contract.features.map((f) => f.name),
    ['precipitation', 'temp_max', 'temp_min', 'wind', 'doy_sin', 'doy_cos'],
  );
  t.same(committed.inputNames, [contract.inputs[0]?.name]);
  t.same(committed.outputNames, [contract.outputs[0]?.name]);
  t.equal(contract.reference?.rows, data.train.rows);
  t.end();
});

t.test('accuracy on both 2015 evaluation sets is at least 0.80', (t) => {
  for (const [name, report] of Object.entries(trained.metrics)) {
    t.equal(report.rows, 365, `${name} has a year of rows`);
    t.ok(report.accuracy >= 0.8, `${name} accuracy ${report.accuracy}`);
  }
  t.end();
});
