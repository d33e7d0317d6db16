/**
 * Issue #9: `npm run finetune` reproduces models/weather/2 byte for byte, starting from v1's ONNX weights, with
 * v1's feature spec unchanged and a reference profile of its own; and v2 meets the targets.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { validateContract } from '../../lib/core/model-contract.js';
import { BASE_DIR, FINETUNED_DIR, finetuneWeatherModel, targetLines } from '../../training/finetune.js';
import { readMlpFromOnnx } from '../../training/onnx-import.js';
import { exportMlpToOnnx } from '../../training/onnx-export.js';
import { contractJson } from '../../training/train.js';

// Fine-tuning takes a minute or more on a busy machine; every subtest checks the same run.
t.setTimeout(900_000);
const tuned = await finetuneWeatherModel();
const committed = (file: string): Buffer => readFileSync(new URL(file, FINETUNED_DIR));
const base = validateContract(JSON.parse(readFileSync(new URL('model.json', BASE_DIR), 'utf8')), 'weather');

t.test('fine-tuning reproduces the committed v2 byte for byte', (t) => {
  t.ok(Buffer.from(tuned.onnx).equals(committed('model.onnx')), 'model.onnx is identical');
  t.equal(contractJson(tuned.contract), committed('model.json').toString('utf8'), 'model.json is identical');
  t.end();
});

t.test('v2 takes the same input as v1: features, standardization and tensors unchanged', (t) => {
  const v2 = validateContract(JSON.parse(committed('model.json').toString('utf8')), 'weather');
  t.same(v2.features, base.features);
  t.same(v2.inputs, base.inputs);
  t.same(v2.outputs, base.outputs);
  t.same(v2.labels, base.labels);
  t.not(JSON.stringify(v2.reference), JSON.stringify(base.reference), 'a reference profile of its own');
  t.equal(v2.reference?.rows, 1096, 'New York before 2015');
  t.match(v2.training, {
    base_model: { name: 'weather', version: 1 },
    selection: 'New York, date < 2015-01-01',
  });
  t.end();
});

t.test('the weights are read back from an ONNX file exactly', (t) => {
  const weights = readMlpFromOnnx(committed('model.onnx'));
  t.same([weights.hidden.inputs, weights.hidden.units, weights.output.units], [6, 32, 5]);
  t.ok(Buffer.from(exportMlpToOnnx(weights)).equals(committed('model.onnx')), 'export(import(x)) = x');
  t.throws(() => readMlpFromOnnx(new Uint8Array([8, 1])), /expected an MLP graph/);
  t.end();
});

t.test('early stopping kept the best validation epoch', (t) => {
  const best = tuned.curve.find((r) => r.epoch === tuned.bestEpoch);
  if (best === undefined) throw new Error(`no epoch ${tuned.bestEpoch} in the curve`);
  t.ok(tuned.curve.every((r) => r.val_loss >= best.val_loss - 1e-4));
  t.equal(tuned.curve.length - tuned.bestEpoch, 20, 'stopped after 20 epochs without improvement');
  t.end();
});

t.test("v2 meets the issue's targets on the held-out 2015 sets", (t) => {
  const { ok, lines } = targetLines(tuned.comparison);
  t.ok(ok, lines.join('\n'));
  t.end();
});
