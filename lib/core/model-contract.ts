/**
 * The model contract: model.json beside model.onnx. It travels with the model and says everything a client
 * needs to call it — tensor names, shapes and datatypes, labels, the feature spec, and the reference profile
 * used for drift. The server serves it in model metadata (`parameters.contract`), so a pipeline can configure
 * itself from the server it scores against.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { isDatatype } from './datatypes.js';
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
  /**
   * Where the contract came from: `graph` when the version directory holds only model.onnx (everything read
   * from the ONNX graph), `model.json` when a model.json adds to the graph and was checked against it.
   * @default "model.json" (contracts written before graphs were read)
   */
  source?: 'graph' | 'model.json';
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Class labels in the order of the probability output; empty for a model that is not a classifier. */
  labels: string[];
  /**
   * The output holding class probabilities `[N, K]` in label order.
   * @default the only output, when the model has one and `labels` is not empty
   */
  probability_output?: string;
  /** The output holding each row's predicted label (`[N]` INT64 or BYTES), as skl2onnx exports it. */
  label_output?: string;
  /**
   * How one `[N, K]` input is built from K columns, one entry per element of its last dimension, in order.
   * Empty when each input is read from the column of its own name.
   */
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
      !isDatatype(t.datatype) ||
      !Array.isArray(t.shape) ||
      !t.shape.every((d) => Number.isInteger(d) && (d as number) >= -1)
    ) {
      fail(
        `model.json of ${show(name)}: every \`${field}\` entry needs a name, an OIP datatype and a shape of integers ≥ -1, got ${show(t)}`,
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
    t === undefined ||
    (isObject(t) &&
      (t.type === 'number' ||
        (t.type === 'day_of_year' &&
          (t.fn === 'sin' || t.fn === 'cos') &&
          typeof t.period === 'number' &&
          t.period > 0)));
  if (!okTransform) fail(`${where} has an unknown transform (expected number or day_of_year sin/cos)`, name);
  const s = f.standardize;
  if (
    s !== undefined &&
    (!isObject(s) || typeof s.mean !== 'number' || typeof s.std !== 'number' || !(s.std > 0))
  )
    fail(`${where}: standardize needs a number mean and a positive std`, name);
}

/**
 * Checks a whole contract (a served model's metadata, or a model.json that says everything) and returns it
 * typed; refuses anything a scorer could not use.
 */
export function validateContract(value: unknown, expectedName?: string): ModelContract {
  const name = expectedName ?? (isObject(value) && typeof value.name === 'string' ? value.name : '?');
  const partial = checkModelJson(value, name);
  checkTensors(partial.inputs, 'inputs', name);
  checkTensors(partial.outputs, 'outputs', name);
  return completeContract(partial as PartialContract & Pick<ModelContract, 'inputs' | 'outputs'>, name);
}

/** A model.json as written: everything but `format` and `name` may be left to the ONNX graph. */
export type PartialContract = Partial<ModelContract> & Pick<ModelContract, 'format' | 'name'>;

/** Checks a parsed model.json (whose inputs and outputs may be left out) and returns it typed. */
export function checkModelJson(value: unknown, expectedName?: string): PartialContract {
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
  if (value.platform !== undefined && value.platform !== 'onnxruntime_onnx')
    fail(`model.json of ${show(name)}: platform must be "onnxruntime_onnx"`, name);
  if (value.inputs !== undefined) checkTensors(value.inputs, 'inputs', name);
  if (value.outputs !== undefined) checkTensors(value.outputs, 'outputs', name);
  if (
    value.labels !== undefined &&
    (!Array.isArray(value.labels) || !value.labels.every((l) => typeof l === 'string'))
  ) {
    fail(`model.json of ${show(name)}: \`labels\` must be an array of strings`, name);
  }
  for (const key of ['probability_output', 'label_output', 'description', 'target'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string')
      fail(`model.json of ${show(name)}: \`${key}\` must be a string, got ${show(value[key])}`, name);
  }
  if (value.features !== undefined) {
    if (!Array.isArray(value.features))
      fail(`model.json of ${show(name)}: \`features\` must be an array`, name);
    for (const f of value.features) checkFeature(f, name);
  }
  return value as unknown as PartialContract;
}

/**
 * Fills a contract's defaults and checks that its parts agree: the feature spec fits one `[N, K]` input, the
 * probability and label outputs exist, the probability output has one column per label.
 */
export function completeContract(
  partial: PartialContract & Pick<ModelContract, 'inputs' | 'outputs'>,
  name: string,
): ModelContract {
  const contract: ModelContract = {
    ...partial,
    platform: 'onnxruntime_onnx',
    labels: partial.labels ?? [],
    features: partial.features ?? [],
  };
  const { inputs, outputs, labels, features } = contract;
  if (features.length > 0) {
    const input = inputs[0] as TensorSpec;
    const width = input.shape[input.shape.length - 1];
    if (inputs.length !== 1 || input.shape.length !== 2 || width !== features.length) {
      fail(
        `model.json of ${show(name)}: ${features.length} features need one input of shape [-1, ${features.length}], but the model has ${inputs
          .map((i) => `${i.name} ${show(i.shape)}`)
          .join(', ')}`,
        name,
      );
    }
  }
  for (const key of ['probability_output', 'label_output'] as const) {
    const output = contract[key];
    if (output !== undefined && !outputs.some((o) => o.name === output))
      fail(`Model ${show(name)}: \`${key}\` names ${show(output)}, which is not one of its outputs`, name);
  }
  if (labels.length > 0) {
    const probabilities = probabilityOutput(contract);
    if (probabilities === undefined) {
      fail(
        `Model ${show(name)} has ${labels.length} labels but no output to read their probabilities from: name it in \`probability_output\``,
        name,
      );
    }
    const k = probabilities.shape[probabilities.shape.length - 1];
    if (k !== -1 && k !== labels.length)
      fail(
        `Model ${show(name)}: output ${show(probabilities.name)} of shape ${show(probabilities.shape)} does not hold one probability per label (${labels.length})`,
        name,
      );
  }
  return contract;
}

/** The output holding class probabilities, for a classifier (labels known); undefined otherwise. */
export function probabilityOutput(contract: ModelContract): TensorSpec | undefined {
  if (contract.labels.length === 0) return undefined;
  if (contract.probability_output !== undefined)
    return contract.outputs.find((o) => o.name === contract.probability_output);
  return contract.outputs.length === 1 ? contract.outputs[0] : undefined;
}
