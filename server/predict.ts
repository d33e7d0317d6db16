/**
 * One prediction request of the single-model routes (SageMaker, Vertex AI): pick the model, read and parse the
 * body into feature rows, run the model on them as one batch, and count the outcome in the server's metrics.
 * Predictions are the most probable label plus every label's probability, the same for both routes.
 */
import type { Context } from 'koa';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../lib/errors.js';
import { argmaxRow } from '../lib/core/metrics.js';
import type { ModelContract } from '../lib/core/model-contract.js';
import { csvField, formatProbability } from '../lib/core/output-format.js';
import type { ServerContext } from './context.js';
import { readBody } from './http/body.js';
import { HttpError } from './http/http-error.js';
import type { RequestState } from './http/lifecycle.js';
import type { ServedModel } from './served-model.js';

/** Probabilities of `rows` rows, row-major, in the order of `labels`. */
export interface Scores {
  readonly model: ServedModel;
  readonly labels: readonly string[];
  readonly rows: number;
  readonly probabilities: Float32Array;
}

/** One prediction as the JSON routes answer it, in Vertex AI's classification form plus the winning label. */
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

/**
 * Reads the request body, parses it into feature rows with `parse`, and scores them. A body that cannot be
 * parsed counts as a `validation` error of the model, a failed run as an `inference` error.
 */
export async function predict(
  server: ServerContext,
  ctx: Context,
  parse: (body: Buffer, contract: ModelContract) => Float32Array[] | Promise<Float32Array[]>,
): Promise<Scores> {
  const model = defaultModel(server);
  const { contract } = model;
  const labels = { model_name: model.name, model_version: String(model.version) };
  const [input] = contract.inputs;
  const [output] = contract.outputs;
  let rows: Float32Array[];
  try {
    if (input?.datatype !== 'FP32' || output === undefined) {
      throw new BatchInferError(
        ErrorCodes.BAD_REQUEST,
        `Model ${model.name} does not take one FP32 feature row per instance; call /v2/models/${model.name}/infer`,
      );
    }
    rows = await parse(await readBody(ctx.req, server.options.maxBodyBytes), contract);
    if (rows.length === 0)
      throw new BatchInferError(ErrorCodes.BAD_REQUEST, 'The request holds no instances');
  } catch (err) {
    server.metrics.predictionErrors.inc({ ...labels, reason: 'validation' });
    throw err;
  }
  const width = contract.features.length;
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, i) => data.set(row, i * width));
  let probabilities: Float32Array;
  try {
    const [out] = await model.engine.infer(
      [{ name: input.name, datatype: 'FP32', shape: [rows.length, width], data }],
      [output.name],
      { deadline: (ctx.state as RequestState).deadline },
    );
    if (!(out?.data instanceof Float32Array) || out.data.length !== rows.length * contract.labels.length) {
      throw new BatchInferError(
        ErrorCodes.INFERENCE,
        `Output ${output.name} of model ${model.name} is not ${rows.length} × ${contract.labels.length} FP32 probabilities`,
      );
    }
    probabilities = out.data;
  } catch (err) {
    if (isBatchInferError(err, ErrorCodes.INFERENCE))
      server.metrics.predictionErrors.inc({ ...labels, reason: 'inference' });
    throw err;
  }
  server.metrics.predictions.inc(labels, rows.length);
  return { model, labels: contract.labels, rows: rows.length, probabilities };
}

/** Row `i`'s probabilities, each rounded to 9 significant digits (enough to read back the same float32). */
function rowScores(scores: Scores, i: number): number[] {
  const k = scores.labels.length;
  return Array.from(scores.probabilities.subarray(i * k, (i + 1) * k), (p) => Number(formatProbability(p)));
}

function labelOf(scores: Scores, i: number): string {
  return scores.labels[argmaxRow(scores.probabilities, i, scores.labels.length)] ?? '';
}

export function predictionObjects(scores: Scores): PredictionObject[] {
  return Array.from({ length: scores.rows }, (_, i) => ({
    label: labelOf(scores, i),
    classes: [...scores.labels],
    scores: rowScores(scores, i),
  }));
}

/** One CSV line per row: the label, then the probabilities in label order. */
export function predictionCsv(scores: Scores): string {
  let out = '';
  for (let i = 0; i < scores.rows; i++)
    out += [csvField(labelOf(scores, i)), ...rowScores(scores, i)].join(',') + '\n';
  return out;
}
