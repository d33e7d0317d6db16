/**
 * Trains the bundled `weather` model and writes models/weather/1/{model.onnx,model.json}. Training is seeded
 * end to end, so rerunning it reproduces both files byte for byte; the figures it reports come from the
 * exported ONNX bytes under onnxruntime, i.e. from what is actually shipped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { InferenceSession } from 'onnxruntime-node';
import { classificationReport, type ClassificationReport } from '../lib/core/metrics.js';
import { validateContract, type ModelContract } from '../lib/core/model-contract.js';
import { labelShares } from '../lib/core/profile.js';
import {
  loadWeatherData,
  TRAIN_SELECTION,
  WEATHER_DATA,
  WEATHER_LABELS,
  WEATHER_TARGET,
  type LabelledSet,
} from './data.js';
import {
  argmaxAll,
  HIDDEN_UNITS,
  mlpToOnnx,
  permutation,
  predictOnnx,
  round6,
  useCpuBackend,
} from './mlp.js';
import { INPUT_NAME, OUTPUT_NAME } from './onnx-export.js';
import { mulberry32 } from './prng.js';

const SEED = 20150101;
// Chosen by training on Seattle 2012–13 and validating on Seattle 2014, over several seeds.
const EPOCHS = 150;
const BATCH_SIZE = 128;
const LEARNING_RATE = 0.01;

export type EvalSetName = 'seattle_2015' | 'new_york_2015';

export interface TrainedWeatherModel {
  model: tf.Sequential;
  onnx: Uint8Array;
  contract: ModelContract;
  metrics: Record<EvalSetName, ClassificationReport>;
}

function buildModel(inputs: number, classes: number): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      inputShape: [inputs],
      units: HIDDEN_UNITS,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED }),
      biasInitializer: 'zeros',
    }),
  );
  model.add(
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
      biasInitializer: 'zeros',
    }),
  );
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy' });
  return model;
}

/** Reshuffles every epoch with the seeded PRNG; fit's own shuffle would draw on Math.random. */
async function fit(model: tf.Sequential, set: LabelledSet, width: number): Promise<void> {
  const x = tf.tensor2d(set.features, [set.rows, width]);
  const y = tf.oneHot(tf.tensor1d(set.labels, 'int32'), WEATHER_LABELS.length);
  const random = mulberry32(SEED);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const order = tf.tensor1d(permutation(set.rows, random), 'int32');
    const xs = tf.gather(x, order);
    const ys = tf.gather(y, order);
    await model.fit(xs, ys, { epochs: 1, batchSize: BATCH_SIZE, shuffle: false });
    tf.dispose([order, xs, ys]);
  }
  tf.dispose([x, y]);
}

export async function trainWeatherModel(): Promise<TrainedWeatherModel> {
  await useCpuBackend();
  const data = loadWeatherData();
  const labels = [...WEATHER_LABELS];
  const width = data.specs.length;

  const model = buildModel(width, labels.length);
  await fit(model, data.train, width);
  const onnx = mlpToOnnx(model, 'weather');

  const session = await InferenceSession.create(Buffer.from(onnx));
  const evaluate = async (set: LabelledSet): Promise<ClassificationReport> => {
    const probabilities = await predictOnnx(session, set.features, set.rows);
    return classificationReport(labels, set.labels, argmaxAll(probabilities, set.rows), probabilities);
  };
  const metrics = {
    seattle_2015: await evaluate(data.eval.seattle_2015),
    new_york_2015: await evaluate(data.eval.new_york_2015),
  };
  const trainPredicted = argmaxAll(
    await predictOnnx(session, data.train.features, data.train.rows),
    data.train.rows,
  );
  await session.release();

  const summary = (r: ClassificationReport): Record<string, number> => ({
    rows: r.rows,
    accuracy: round6(r.accuracy),
    macro_f1: round6(r.macro_f1),
  });
  const contract: ModelContract = {
    format: 1,
    name: 'weather',
    platform: 'onnxruntime_onnx',
    description:
      "Classifies a day's weather as drizzle, fog, rain, snow or sun from its precipitation, temperatures, wind and time of year.",
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, width] }],
    outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [-1, labels.length] }],
    labels,
    features: data.specs,
    target: WEATHER_TARGET,
    reference: {
      rows: data.train.rows,
      features: data.profiles,
      predictions: labelShares(labels, trainPredicted),
    },
    training: {
      library: `@tensorflow/tfjs ${tf.version.tfjs}`,
      data: WEATHER_DATA,
      train_rows: data.train.rows,
      selection: TRAIN_SELECTION,
      seed: SEED,
      epochs: EPOCHS,
      batch_size: BATCH_SIZE,
      optimizer: 'adam',
      learning_rate: LEARNING_RATE,
      metrics: { seattle_2015: summary(metrics.seattle_2015), new_york_2015: summary(metrics.new_york_2015) },
    },
  };
  return { model, onnx, contract: validateContract(contract, 'weather'), metrics };
}

/** The committed model.json text; the reproducibility test compares against exactly this. */
export function contractJson(contract: ModelContract): string {
  return JSON.stringify(contract, null, 2) + '\n';
}

async function main(): Promise<void> {
  const started = performance.now();
  const { onnx, contract, metrics } = await trainWeatherModel();
  const seconds = (performance.now() - started) / 1000;
  const dir = new URL('../models/weather/1/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('model.onnx', dir), onnx);
  writeFileSync(new URL('model.json', dir), contractJson(contract));

  const lines = ['eval set        rows  accuracy  macro-F1'];
  for (const [name, r] of Object.entries(metrics)) {
    lines.push(
      `${name.padEnd(14)} ${String(r.rows).padStart(5)}  ${r.accuracy.toFixed(4).padStart(8)}  ${r.macro_f1.toFixed(4).padStart(8)}`,
    );
  }
  lines.push(`trained and evaluated in ${seconds.toFixed(1)} s; wrote ${fileURLToPath(dir)}`);
  console.log(lines.join('\n'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
