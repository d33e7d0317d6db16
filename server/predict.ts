/**
 * One prediction request of the single-model routes (SageMaker, Vertex AI): pick the model, read and parse the
 * body into instances, run the model on them as one batch, and count the outcome in the server's metrics.
 * A classifier's predictions are the predicted label plus every label's probability; any other model's, its
 * outputs by name. Both routes answer alike.
 */
import type { Context } from 'koa';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../lib/errors.js';
import type { InputPlan } from '../lib/core/input-plan.js';
import { argmaxRow } from '../lib/core/metrics.js';
import { csvField, formatProbability } from '../lib/core/output-format.js';
import { planOutputs, type OutputPlan } from '../lib/core/output-plan.js';
import { elementText, float32Data } from '../lib/core/output-values.js';
import { elementJson } from '../lib/core/tensor-json.js';
import { rowSize, type Tensor } from '../lib/core/tensor.js';
import type { ServerContext } from './context.js';
import { readBody } from './http/body.js';
import { HttpError } from './http/http-error.js';
import type { RequestState } from './http/lifecycle.js';
import { inputPlanOf, instanceTensors, type Instance } from './records.js';
import type { ServedModel } from './served-model.js';

/** A model's answer to the instances of one request. */
export interface Scores {
  readonly model: ServedModel;
  readonly plan: OutputPlan;
  readonly rows: number;
  readonly outputs: readonly Tensor[];
  /** A classifier's probabilities, rows × labels; empty otherwise. */
  readonly probabilities: Float32Array;
}

/** One prediction of a classifier as the JSON routes answer it: Vertex AI's classification form plus the label. */
export interface PredictionObject {
  label: string;
  classes: string[];
  scores: number[];
}

/** The model behind the single-model routes: `defaultModel`, else the only (or first by name) model. */
export function defaultModel(server: ServerContext): ServedModel {
  const name = server.options.defaultModel ?? server.repository.names()[0];
  if (name === undefined) throw new HttpError(503, 'No model is loaded');
  return server.repository.get(name);
}

const plans = new WeakMap<object, OutputPlan>();

function outputPlanOf(model: ServedModel): OutputPlan {
  const { contract } = model;
  let plan = plans.get(contract);
  if (plan === undefined) {
    plan = planOutputs(contract);
    plans.set(contract, plan);
  }
  return plan;
}

/**
 * Reads the request body, parses it into instances with `parse`, and scores them. A body that cannot be parsed
 * counts as a `validation` error of the model, a failed run as an `inference` error.
 */
export async function predict(
  server: ServerContext,
  ctx: Context,
  parse: (body: Buffer, plan: InputPlan) => Instance[] | Promise<Instance[]>,
): Promise<Scores> {
  const model = defaultModel(server);
  const labels = { model_name: model.name, model_version: String(model.version) };
  let inputs: Tensor[];
  let plan: OutputPlan;
  try {
    const inputPlan = inputPlanOf(model.contract);
    plan = outputPlanOf(model);
    const instances = await parse(await readBody(ctx.req, server.options.maxBodyBytes), inputPlan);
    if (instances.length === 0)
      throw new BatchInferError(ErrorCodes.BAD_REQUEST, 'The request holds no instances');
    inputs = instanceTensors(inputPlan, instances);
  } catch (err) {
    server.metrics.predictionErrors.inc({ ...labels, reason: 'validation' });
    throw err;
  }
  const rows = inputs[0]?.shape[0] ?? 0;
  let outputs: Tensor[];
  try {
    outputs = await model.engine.infer(inputs, plan.outputs, {
      deadline: (ctx.state as RequestState).deadline,
    });
  } catch (err) {
    if (isBatchInferError(err, ErrorCodes.INFERENCE))
      server.metrics.predictionErrors.inc({ ...labels, reason: 'inference' });
    throw err;
  }
  server.metrics.predictions.inc(labels, rows);
  const probabilities =
    plan.classifier === undefined
      ? undefined
      : outputs.find((o) => o.name === plan.classifier?.probabilities);
  return {
    model,
    plan,
    rows,
    outputs,
    probabilities: probabilities === undefined ? new Float32Array(0) : float32Data(probabilities),
  };
}

/** Row `i`'s probabilities, each rounded to 9 significant digits (enough to read back the same float32). */
function rowScores(scores: Scores, labels: readonly string[], i: number): number[] {
  const k = labels.length;
  return Array.from(scores.probabilities.subarray(i * k, (i + 1) * k), (p) => Number(formatProbability(p)));
}

function labelOf(scores: Scores, labels: readonly string[], i: number): string {
  const name = scores.plan.classifier?.label;
  const tensor = name === undefined ? undefined : scores.outputs.find((o) => o.name === name);
  if (tensor !== undefined) return elementText(tensor, i);
  return labels[argmaxRow(scores.probabilities, i, labels.length)] ?? '';
}

function output(scores: Scores, name: string): Tensor {
  return scores.outputs.find((o) => o.name === name) as Tensor;
}

/** Row i of a plain output as JSON: its value for one element per row, else an array. */
function plainJson(tensor: Tensor, i: number): string {
  const size = rowSize(tensor);
  if (size === 1) return elementJson(tensor, i);
  return `[${Array.from({ length: size }, (_, j) => elementJson(tensor, i * size + j)).join(',')}]`;
}

/** The predictions as JSON texts, one per row. */
export function predictionJson(scores: Scores): string[] {
  const { classifier, plain } = scores.plan;
  return Array.from({ length: scores.rows }, (_, i) => {
    const fields: string[] = [];
    if (classifier !== undefined) {
      const object: PredictionObject = {
        label: labelOf(scores, classifier.labels, i),
        classes: [...classifier.labels],
        scores: rowScores(scores, classifier.labels, i),
      };
      if (plain.length === 0) return JSON.stringify(object);
      fields.push(JSON.stringify(object).slice(1, -1));
    }
    for (const p of plain) fields.push(`${JSON.stringify(p.name)}:${plainJson(output(scores, p.name), i)}`);
    return `{${fields.join(',')}}`;
  });
}

/** `{"predictions": […]}`. */
export function predictionsBody(scores: Scores): string {
  return `{"predictions":[${predictionJson(scores).join(',')}]}`;
}

/** One CSV line per row: a classifier's label then its probabilities in label order, then every other output. */
export function predictionCsv(scores: Scores): string {
  const { classifier, plain } = scores.plan;
  let out = '';
  for (let i = 0; i < scores.rows; i++) {
    const fields: (string | number)[] = [];
    if (classifier !== undefined)
      fields.push(
        csvField(labelOf(scores, classifier.labels, i)),
        ...rowScores(scores, classifier.labels, i),
      );
    for (const p of plain) {
      const tensor = output(scores, p.name);
      const size = rowSize(tensor);
      for (let j = i * size; j < (i + 1) * size; j++) fields.push(csvField(elementText(tensor, j)));
    }
    out += fields.join(',') + '\n';
  }
  return out;
}
