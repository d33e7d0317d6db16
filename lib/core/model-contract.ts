/**
 * The model contract: model.json beside model.onnx. It travels with the model and says everything a client
 * needs to call it — tensor names, shapes and datatypes, labels, the feature spec, and the reference profile
 * used for drift. The server serves it in model metadata (`parameters.contract`), so a pipeline can configure
 * itself from the server it scores against.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { FeatureSpec } from './features.js';
import type { ReferenceProfile } from './profile.js';

/** Tensor datatypes of the Open Inference Protocol. */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** -1 marks a variable dimension (the batch). */
  shape: number[];
}

export interface ModelContract {
  /** Contract format version; bumped on incompatible changes. */
  format: 1;
  name: string;
  platform: 'onnxruntime_onnx';
  description?: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Class labels in the order of the probability output. */
  labels: string[];
  /** One entry per element of the (single) input tensor's last dimension, in order. */
  features: FeatureSpec[];
  /** Column holding the true label in labelled data, when there is one. */
  target?: string;
  reference?: ReferenceProfile;
  training?: Record<string, unknown>;
}

function fail(message: string, model?: string): never {
  throw new BatchInferError(
    ErrorCodes.MODEL_CONTRACT,
    message,
    model === undefined ? {} : { context: { model } },
  );
}

/** A plain JSON object (not null, not an array). */
export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkTensors(value: unknown, field: string, name: string): void {
  if (!Array.isArray(value) || value.length === 0)
    fail(`model.json of ${show(name)}: \`${field}\` must be a non-empty array`, name);
  for (const t of value) {
    if (
      !isObject(t) ||
      typeof t.name !== 'string' ||
      typeof t.datatype !== 'string' ||
      !Array.isArray(t.shape)
    ) {
      fail(
        `model.json of ${show(name)}: every \`${field}\` entry needs name, datatype and shape, got ${show(t)}`,
        name,
      );
    }
  }
}

function checkFeature(f: unknown, name: string): void {
  const where = `model.json of ${show(name)}: feature ${show(f)}`;
  if (!isObject(f) || typeof f.name !== 'string' || typeof f.column !== 'string')
    fail(`${where} needs name and column`, name);
  const t = f.transform;
  const okTransform =
    isObject(t) &&
    (t.type === 'number' ||
      (t.type === 'day_of_year' &&
        (t.fn === 'sin' || t.fn === 'cos') &&
        typeof t.period === 'number' &&
        t.period > 0));
  if (!okTransform) fail(`${where} has an unknown transform (expected number or day_of_year sin/cos)`, name);
  const s = f.standardize;
  if (!isObject(s) || typeof s.mean !== 'number' || typeof s.std !== 'number' || !(s.std > 0)) {
    fail(`${where} needs standardize.mean and a positive standardize.std`, name);
  }
}

/** Checks a parsed model.json and returns it typed; refuses anything a scorer could not use. */
export function validateContract(value: unknown, expectedName?: string): ModelContract {
  const name = expectedName ?? (isObject(value) && typeof value.name === 'string' ? value.name : '?');
  if (!isObject(value)) fail(`model.json of ${show(name)} must be a JSON object`, name);
  if (value.format !== 1)
    fail(`model.json of ${show(name)}: unsupported format ${show(value.format)} (expected 1)`, name);
  if (typeof value.name !== 'string' || value.name === '')
    fail(`model.json of ${show(name)}: \`name\` must be a non-empty string`, name);
  if (expectedName !== undefined && value.name !== expectedName) {
    fail(
      `model.json names the model ${show(value.name)} but it sits in the directory ${show(expectedName)}`,
      name,
    );
  }
  if (value.platform !== 'onnxruntime_onnx')
    fail(`model.json of ${show(name)}: platform must be "onnxruntime_onnx"`, name);
  checkTensors(value.inputs, 'inputs', name);
  checkTensors(value.outputs, 'outputs', name);
  if (
    !Array.isArray(value.labels) ||
    value.labels.length === 0 ||
    !value.labels.every((l) => typeof l === 'string')
  ) {
    fail(`model.json of ${show(name)}: \`labels\` must be a non-empty array of strings`, name);
  }
  if (!Array.isArray(value.features) || value.features.length === 0)
    fail(`model.json of ${show(name)}: \`features\` must be a non-empty array`, name);
  for (const f of value.features) checkFeature(f, name);
  const input = (value.inputs as TensorSpec[])[0] as TensorSpec;
  const width = input.shape[input.shape.length - 1];
  if (width !== value.features.length) {
    fail(
      `model.json of ${show(name)}: input ${show(input.name)} has width ${show(width)} but ${value.features.length} features are specified`,
      name,
    );
  }
  return value as unknown as ModelContract;
}
