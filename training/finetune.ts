/**
 * Fine-tunes the bundled `weather` model for New York: starts from the weights in models/weather/1/model.onnx,
 * continues training on New York days before 2015 and writes models/weather/2/{model.onnx,model.json}.
 *
 * - Data: the New York rows dated before 2015, split 80/20 (stratified by label, seeded) into training and
 *   validation; 2015 stays held out for the comparison. The feature spec — standardization included — is v1's,
 *   unchanged, so both versions take the same input and a client cannot tell them apart by their contract.
 * - Forgetting: every Seattle row v1 trained on is rehearsed with v1's own probabilities as its target
 *   (distillation), so the new model keeps v1's answers on Seattle while it learns New York.
 * - Rare classes: drizzle and fog are 3 % and 2 % of New York days; class weights √(n / (k · n_c)) give them
 *   more say than their count without letting them swamp the loss.
 * - Optimizer: Adam at a tenth of v1's learning rate, batches of 64, early stopping on the class-weighted
 *   validation loss (patience 20 epochs, at most 300), the best epoch's weights kept.
 *
 * Seeded end to end, so rerunning it reproduces both files byte for byte. The figures it prints come from the
 * two ONNX files under onnxruntime, i.e. from what is served. training/finetune-sweep.ts reruns it over seeds
 * and rehearsal variants for docs/fine-tuning.md.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { InferenceSession } from 'onnxruntime-node';
import {
  compareModels,
  comparisonMarkdown,
  type LabelledPredictions,
  type ModelComparison,
} from '../lib/core/compare.js';
import { classificationReport, rowLogLoss, type ClassificationReport } from '../lib/core/metrics.js';
import { validateContract, type ModelContract } from '../lib/core/model-contract.js';
import { labelShares, profileFeature } from '../lib/core/profile.js';
import {
  before2015,
  column,
  in2015,
  labelledSet,
  readWeatherRows,
  WEATHER_DATA,
  WEATHER_LABELS,
  type LabelledSet,
  type WeatherRow,
} from './data.js';
import {
  argmaxAll,
  mlpLayers,
  mlpToOnnx,
  permutation,
  predictOnnx,
  round6,
  setDenseWeights,
  useCpuBackend,
} from './mlp.js';
import { readMlpFromOnnx } from './onnx-import.js';
import { mulberry32 } from './prng.js';
import { contractJson } from './train.js';

export const BASE_DIR = new URL('../models/weather/1/', import.meta.url);
export const FINETUNED_DIR = new URL('../models/weather/2/', import.meta.url);

export const FINETUNE_SEED = 20150102;
const LEARNING_RATE = 0.001;
const BATCH_SIZE = 64;
const MAX_EPOCHS = 300;
const PATIENCE = 20;
/** A validation loss must drop by more than this to count as an improvement. */
const MIN_IMPROVEMENT = 1e-4;
const VALIDATION_SHARE = 0.2;

/**
 * Seattle rows trained on alongside New York: none, with their labels, or with v1's probabilities as targets
 * (the default and what v2 is trained with).
 */
export type Rehearsal = 'none' | 'labels' | 'distill';

export interface FinetuneOptions {
  /** @default FINETUNE_SEED */
  seed?: number;
  /** @default "distill" */
  rehearsal?: Rehearsal;
}

/** One epoch of the learning curve. */
export interface EpochRecord {
  epoch: number;
  /** Class-weighted training loss, as the optimizer saw it. */
  train_loss: number;
  /** Class-weighted cross-entropy on the validation rows: what early stopping watches. */
  val_loss: number;
  val_macro_f1: number;
}

export interface FinetunedWeatherModel {
  model: tf.Sequential;
  onnx: Uint8Array;
  contract: ModelContract;
  curve: EpochRecord[];
  bestEpoch: number;
  /** v1 and v2 on the New York validation rows. */
  validation: { champion: ClassificationReport; challenger: ClassificationReport };
  /** v1 (champion) against v2 (challenger) on New York 2015 and Seattle 2015. */
  comparison: ModelComparison;
}

interface Split {
  train: WeatherRow[];
  validation: WeatherRow[];
}

/** Per label, a seeded shuffle sends round(share · n) of its rows to validation; both keep file order. */
function stratifiedSplit(rows: readonly WeatherRow[], share: number, random: () => number): Split {
  const toValidation = new Set<WeatherRow>();
  for (const label of WEATHER_LABELS) {
    const ofLabel = rows.filter((r) => r.weather === label);
    const order = permutation(ofLabel.length, random);
    const count = Math.round(share * ofLabel.length);
    for (let i = 0; i < count; i++) toValidation.add(ofLabel[order[i] as number] as WeatherRow);
  }
  return {
    train: rows.filter((r) => !toValidation.has(r)),
    validation: rows.filter((r) => toValidation.has(r)),
  };
}

/** √(n / (k · n_c)) per class over the training labels: rare classes count more, but not in full proportion. */
function classWeights(labels: Int32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  return counts.map((c) => (c === 0 ? 1 : Math.sqrt(labels.length / (k * c))));
}

function oneHot(labels: Int32Array, k: number): Float32Array {
  const out = new Float32Array(labels.length * k);
  labels.forEach((l, i) => (out[i * k + l] = 1));
  return out;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function predictTf(model: tf.Sequential, set: LabelledSet, width: number): Float32Array {
  return tf.tidy(() =>
    (model.predict(tf.tensor2d(set.features, [set.rows, width])) as tf.Tensor).dataSync<'float32'>(),
  );
}

function weightedLogLoss(probabilities: Float32Array, labels: Int32Array, weights: number[]): number {
  const k = weights.length;
  let loss = 0;
  let total = 0;
  labels.forEach((l, i) => {
    const w = weights[l] as number;
    loss += w * rowLogLoss(probabilities[i * k + l] as number);
    total += w;
  });
  return loss / total;
}

function buildFromBase(base: Uint8Array): tf.Sequential {
  const weights = readMlpFromOnnx(base);
  const model = tf.sequential();
  model.add(
    tf.layers.dense({ inputShape: [weights.hidden.inputs], units: weights.hidden.units, activation: 'relu' }),
  );
  model.add(tf.layers.dense({ units: weights.output.units, activation: 'softmax' }));
  const layers = mlpLayers(model);
  setDenseWeights(layers.hidden, weights.hidden);
  setDenseWeights(layers.output, weights.output);
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy' });
  return model;
}

/** Trains with early stopping; leaves the model at its best epoch's weights and returns the learning curve. */
async function fitWithEarlyStopping(
  model: tf.Sequential,
  train: { features: Float32Array; targets: Float32Array; rows: number },
  validation: LabelledSet,
  weights: number[],
  random: () => number,
): Promise<{ curve: EpochRecord[]; bestEpoch: number }> {
  const k = weights.length;
  const width = train.features.length / train.rows;
  const x = tf.tensor2d(train.features, [train.rows, width]);
  const y = tf.tensor2d(train.targets, [train.rows, k]);
  const classWeight = Object.fromEntries(weights.map((w, c) => [c, w]));
  const curve: EpochRecord[] = [];
  let best = { loss: Infinity, epoch: 0, weights: model.getWeights().map((w) => w.clone()) };
  for (let epoch = 1; epoch <= MAX_EPOCHS && epoch - best.epoch <= PATIENCE; epoch++) {
    const order = tf.tensor1d(permutation(train.rows, random), 'int32');
    const xs = tf.gather(x, order);
    const ys = tf.gather(y, order);
    const history = await model.fit(xs, ys, {
      epochs: 1,
      batchSize: BATCH_SIZE,
      shuffle: false,
      classWeight,
    });
    tf.dispose([order, xs, ys]);
    const probabilities = predictTf(model, validation, width);
    const record = {
      epoch,
      train_loss: Number(history.history.loss?.[0]),
      val_loss: weightedLogLoss(probabilities, validation.labels, weights),
      val_macro_f1: classificationReport(
        WEATHER_LABELS,
        validation.labels,
        argmaxAll(probabilities, validation.rows),
      ).macro_f1,
    };
    curve.push(record);
    if (record.val_loss < best.loss - MIN_IMPROVEMENT) {
      tf.dispose(best.weights);
      best = { loss: record.val_loss, epoch, weights: model.getWeights().map((w) => w.clone()) };
    }
  }
  model.setWeights(best.weights);
  tf.dispose([x, y, ...best.weights]);
  return { curve, bestEpoch: best.epoch };
}

async function predictions(session: InferenceSession, set: LabelledSet): Promise<LabelledPredictions> {
  const probabilities = await predictOnnx(session, set.features, set.rows);
  return { truth: set.labels, predicted: argmaxAll(probabilities, set.rows), probabilities };
}

export async function finetuneWeatherModel(options: FinetuneOptions = {}): Promise<FinetunedWeatherModel> {
  const seed = options.seed ?? FINETUNE_SEED;
  const rehearsal = options.rehearsal ?? 'distill';
  await useCpuBackend();
  const baseOnnx = readFileSync(new URL('model.onnx', BASE_DIR));
  const base = validateContract(JSON.parse(readFileSync(new URL('model.json', BASE_DIR), 'utf8')), 'weather');
  const specs = base.features;
  const labels = [...WEATHER_LABELS];
  if (JSON.stringify(base.labels) !== JSON.stringify(labels))
    throw new Error(`models/weather/1 has labels ${base.labels.join(', ')}, not ${labels.join(', ')}`);
  const k = labels.length;
  const width = specs.length;

  const rows = readWeatherRows();
  const newYork = rows.filter((r) => r.location === 'New York' && before2015(r));
  const split = stratifiedSplit(newYork, VALIDATION_SHARE, mulberry32(seed));
  const train = labelledSet(specs, split.train);
  const validation = labelledSet(specs, split.validation);
  const seattle = labelledSet(
    specs,
    rows.filter((r) => r.location === 'Seattle' && before2015(r)),
  );
  const baseSession = await InferenceSession.create(baseOnnx);
  const rehearsed =
    rehearsal === 'none'
      ? { features: new Float32Array(0), targets: new Float32Array(0), rows: 0 }
      : {
          features: seattle.features,
          targets:
            rehearsal === 'distill'
              ? await predictOnnx(baseSession, seattle.features, seattle.rows)
              : oneHot(seattle.labels, k),
          rows: seattle.rows,
        };
  const weights = classWeights(train.labels, k);

  const model = buildFromBase(baseOnnx);
  const { curve, bestEpoch } = await fitWithEarlyStopping(
    model,
    {
      features: concat(train.features, rehearsed.features),
      targets: concat(oneHot(train.labels, k), rehearsed.targets),
      rows: train.rows + rehearsed.rows,
    },
    validation,
    weights,
    mulberry32(seed + 1),
  );
  const onnx = mlpToOnnx(model, 'weather');

  const session = await InferenceSession.create(Buffer.from(onnx));
  const report = async (s: InferenceSession, set: LabelledSet): Promise<ClassificationReport> => {
    const p = await predictions(s, set);
    return classificationReport(labels, p.truth, p.predicted, p.probabilities);
  };
  const evalSets = {
    new_york_2015: labelledSet(
      specs,
      rows.filter((r) => r.location === 'New York' && in2015(r)),
    ),
    seattle_2015: labelledSet(
      specs,
      rows.filter((r) => r.location === 'Seattle' && in2015(r)),
    ),
  };
  const sets = [];
  for (const [name, set] of Object.entries(evalSets)) {
    sets.push({
      name,
      champion: await predictions(baseSession, set),
      challenger: await predictions(session, set),
    });
  }
  const comparison = compareModels('weather', { champion: 1, challenger: 2 }, labels, sets);
  const validationReports = {
    champion: await report(baseSession, validation),
    challenger: await report(session, validation),
  };
  // The reference profile for drift: the New York days the new model is meant for.
  const reference = labelledSet(specs, newYork);
  const referencePredicted = argmaxAll(
    await predictOnnx(session, reference.features, reference.rows),
    reference.rows,
  );
  await session.release();
  await baseSession.release();

  const summary = (r: ClassificationReport): Record<string, number> => ({
    rows: r.rows,
    accuracy: round6(r.accuracy),
    macro_f1: round6(r.macro_f1),
  });
  const challengerOn = (name: string): ClassificationReport =>
    (comparison.sets.find((s) => s.name === name) as ModelComparison['sets'][number]).challenger;
  const contract: ModelContract = {
    format: 1,
    name: 'weather',
    platform: base.platform,
    description: `${base.description ?? ''} Version 2: fine-tuned from version 1 for New York.`.trim(),
    inputs: base.inputs,
    outputs: base.outputs,
    labels,
    features: specs,
    ...(base.target === undefined ? {} : { target: base.target }),
    reference: {
      rows: reference.rows,
      features: specs.map((f, j) => profileFeature(f.name, column(reference, j, width), 0)),
      predictions: labelShares(labels, referencePredicted),
    },
    training: {
      library: `@tensorflow/tfjs ${tf.version.tfjs}`,
      base_model: {
        name: 'weather',
        version: 1,
        sha256: createHash('sha256').update(baseOnnx).digest('hex'),
      },
      data: WEATHER_DATA,
      selection: 'New York, date < 2015-01-01',
      train_rows: train.rows,
      validation_rows: validation.rows,
      validation: `${100 * VALIDATION_SHARE} % of the selection, stratified by label`,
      rehearsal:
        rehearsal === 'none'
          ? 'none'
          : `Seattle, date < 2015-01-01 (${seattle.rows} rows), ${rehearsal === 'distill' ? "with version 1's probabilities as targets" : 'with their labels'}`,
      class_weights: Object.fromEntries(labels.map((l, c) => [l, round6(weights[c] as number)])),
      seed,
      max_epochs: MAX_EPOCHS,
      patience: PATIENCE,
      epochs: curve.length,
      best_epoch: bestEpoch,
      batch_size: BATCH_SIZE,
      optimizer: 'adam',
      learning_rate: LEARNING_RATE,
      metrics: {
        seattle_2015: summary(challengerOn('seattle_2015')),
        new_york_2015: summary(challengerOn('new_york_2015')),
      },
    },
  };
  return {
    model,
    onnx,
    contract: validateContract(contract, 'weather'),
    curve,
    bestEpoch,
    validation: validationReports,
    comparison,
  };
}

/** The promotion targets, judged on a comparison: New York macro-F1 up 0.05, Seattle accuracy within 0.02. */
const TARGETS = [
  { set: 'new_york_2015', metric: 'macro_f1', min_delta: 0.05 },
  { set: 'seattle_2015', metric: 'accuracy', min_delta: -0.02 },
] as const;

/** One line per target: the delta, the threshold and whether it holds. */
export function targetLines(comparison: ModelComparison): { ok: boolean; lines: string[] } {
  let ok = true;
  const lines = TARGETS.map((t) => {
    const delta = comparison.sets.find((s) => s.name === t.set)?.deltas.find((d) => d.metric === t.metric);
    const holds = delta !== undefined && delta.delta >= t.min_delta;
    ok &&= holds;
    const shown = delta === undefined ? 'missing' : `${delta.delta >= 0 ? '+' : ''}${delta.delta.toFixed(4)}`;
    return `${holds ? 'met    ' : 'MISSED '} ${t.set} ${t.metric}: Δ ${shown}, target ≥ ${t.min_delta >= 0 ? '+' : ''}${t.min_delta}`;
  });
  return { ok, lines };
}

function curveTable(curve: EpochRecord[], bestEpoch: number): string {
  const shown = curve.filter(
    (r) => r.epoch === 1 || r.epoch % 10 === 0 || r.epoch === bestEpoch || r.epoch === curve.length,
  );
  return [
    'epoch  train loss  val loss  val macro-F1',
    ...shown.map(
      (r) =>
        `${String(r.epoch).padStart(5)}  ${r.train_loss.toFixed(4).padStart(10)}  ${r.val_loss.toFixed(4).padStart(8)}  ${r.val_macro_f1.toFixed(4).padStart(12)}${r.epoch === bestEpoch ? '  ← best' : ''}`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const tuned = await finetuneWeatherModel();
  const seconds = (performance.now() - started) / 1000;
  mkdirSync(FINETUNED_DIR, { recursive: true });
  writeFileSync(new URL('model.onnx', FINETUNED_DIR), tuned.onnx);
  writeFileSync(new URL('model.json', FINETUNED_DIR), contractJson(tuned.contract));

  const targets = targetLines(tuned.comparison);
  console.log(
    [
      `Learning curve (New York validation, ${tuned.validation.challenger.rows} rows):`,
      curveTable(tuned.curve, tuned.bestEpoch),
      '',
      comparisonMarkdown(tuned.comparison),
      'Targets:',
      ...targets.lines,
      '',
      `fine-tuned and evaluated in ${seconds.toFixed(1)} s; wrote ${fileURLToPath(FINETUNED_DIR)}`,
    ].join('\n'),
  );
  if (!targets.ok) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
