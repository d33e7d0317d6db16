/**
 * What training and fine-tuning share: the weather MLP's shape, seeded shuffling, moving weights between tfjs
 * layers and the ONNX export's layout, and scoring the exported bytes under onnxruntime — the figures a
 * training script reports come from what is shipped, not from the tfjs model.
 */
import * as tf from '@tensorflow/tfjs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { argmaxRow } from '../lib/core/metrics.js';
import { exportMlpToOnnx, INPUT_NAME, OUTPUT_NAME, type DenseWeights } from './onnx-export.js';

export const HIDDEN_UNITS = 32;

/** Fisher–Yates shuffle of 0 … n−1 drawn from a seeded PRNG (tfjs's own shuffle would use Math.random). */
export function permutation(n: number, random: () => number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}

/** A dense layer's kernel and bias in the export's layout. */
function denseWeights(layer: tf.layers.Layer): DenseWeights {
  const [kernel, bias] = layer.getWeights();
  if (kernel === undefined || bias === undefined)
    throw new Error(`layer ${layer.name} has no kernel and bias`);
  return {
    kernel: kernel.dataSync<'float32'>(),
    bias: bias.dataSync<'float32'>(),
    inputs: kernel.size / bias.size,
    units: bias.size,
  };
}

/** Sets a dense layer's kernel and bias (tfjs and the export share the inputs × units layout). */
export function setDenseWeights(layer: tf.layers.Layer, weights: DenseWeights): void {
  const kernel = tf.tensor2d(weights.kernel, [weights.inputs, weights.units]);
  const bias = tf.tensor1d(weights.bias);
  layer.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
}

/** The hidden and output layers of a two-layer MLP. */
export function mlpLayers(model: tf.Sequential): { hidden: tf.layers.Layer; output: tf.layers.Layer } {
  const [hidden, output] = model.layers;
  if (hidden === undefined || output === undefined) throw new Error('model lost its layers');
  return { hidden, output };
}

/** The ONNX bytes of a trained two-layer MLP, named `name` (the model's `weather`). */
export function mlpToOnnx(model: tf.Sequential, name: string): Uint8Array {
  const { hidden, output } = mlpLayers(model);
  return exportMlpToOnnx({ name, hidden: denseWeights(hidden), output: denseWeights(output) });
}

/** Class probabilities (rows × labels, row-major) from an ONNX session over a standardized feature matrix. */
export async function predictOnnx(
  session: InferenceSession,
  features: Float32Array,
  rows: number,
): Promise<Float32Array> {
  const width = features.length / rows;
  const result = await session.run({ [INPUT_NAME]: new Tensor('float32', features, [rows, width]) });
  const output = result[OUTPUT_NAME];
  if (output === undefined || !(output.data instanceof Float32Array))
    throw new Error(`model has no float32 ${OUTPUT_NAME} output`);
  return output.data;
}

/** The argmax label of every row of a rows × labels matrix. */
export function argmaxAll(probabilities: Float32Array, rows: number): Int32Array {
  const width = probabilities.length / rows;
  return Int32Array.from({ length: rows }, (_, i) => argmaxRow(probabilities, i, width));
}

/** model.json keeps 6 significant digits so float noise in the last bits cannot churn the committed file. */
export function round6(x: number): number {
  return Number(x.toPrecision(6));
}

/** tfjs on its pure-JS CPU backend: deterministic, and the same on every machine. */
export async function useCpuBackend(): Promise<void> {
  // Prod mode only silences the banner urging tfjs-node: the pure-JS backend is a deliberate choice here.
  tf.enableProdMode();
  await tf.setBackend('cpu');
}
