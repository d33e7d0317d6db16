/**
 * Validates an Open Inference Protocol inference request against a model's contract and turns its inputs into
 * tensors. Accepts flat or nested `data`, coerces JSON numbers/booleans to the declared datatype,
 * and checks that the shape matches the contract (−1 = any size) and the data length matches the shape.
 * Inputs may instead carry their data as binary (`parameters.binary_data_size`, see binary.ts), and outputs
 * may be asked for as binary (`binary_data` per output, `binary_data_output` for all).
 * The result is plain typed arrays, ready for any inference engine.
 */
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import { elementCount, isDatatype } from '../../lib/core/datatypes.js';
import { tensorDataFromJson } from '../../lib/core/tensor-json.js';
import type { Datatype, ModelContract, TensorSpec } from '../../lib/core/model-contract.js';
import type { Tensor, TensorData } from '../inference/types.js';
import { binarySize, decodeTensorBytes, INFERENCE_HEADER } from './binary.js';

export interface ParsedInferRequest {
  id?: string;
  inputs: Tensor[];
  outputNames: string[];
  /** Per entry of `outputNames`: answer this output as binary data (binary tensor extension). */
  binaryOutputs: boolean[];
}

const EMPTY = Buffer.alloc(0);

function bad(message: string): never {
  throw new BatchInferError(ErrorCodes.BAD_REQUEST, message);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A `parameters` object, or an empty one when absent. */
function parametersOf(owner: Record<string, unknown>, where: string): Record<string, unknown> {
  if (owner.parameters === undefined) return {};
  if (!isObject(owner.parameters))
    bad(`${where}: \`parameters\` must be an object, got ${show(owner.parameters)}`);
  return owner.parameters;
}

function booleanParameter(params: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const value = params[key];
  if (value !== undefined && typeof value !== 'boolean')
    bad(`${where}: parameter \`${key}\` must be a boolean, got ${show(value)}`);
  return value;
}

function binaryDataSize(input: Record<string, unknown>, where: string): number | undefined {
  const size = parametersOf(input, where).binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    bad(`${where}: \`binary_data_size\` must be a non-negative integer, got ${show(size)}`);
  return size;
}

function checkShape(spec: TensorSpec, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    bad(`Input ${show(spec.name)}: shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  const dims = shape as number[];
  const fits = dims.length === spec.shape.length && spec.shape.every((d, i) => d === -1 || d === dims[i]);
  if (!fits)
    bad(`Input ${show(spec.name)}: unexpected shape ${show(dims)}, the model expects ${show(spec.shape)}`);
  return dims;
}

/**
 * `data` in row-major order. It may be flat or nested, but at most as deep as the shape has dimensions: a
 * client's nesting is walked only that far, so no request can make the walk recurse without bound.
 */
function flatData(name: string, data: readonly unknown[], rank: number): readonly unknown[] {
  if (!data.some(Array.isArray)) return data;
  const flat: unknown[] = [];
  const walk = (values: readonly unknown[], depth: number): void => {
    for (const v of values) {
      if (!Array.isArray(v)) flat.push(v);
      else if (depth < rank) walk(v, depth + 1);
      else bad(`Input ${show(name)}: \`data\` is nested deeper than its ${rank}-dimensional shape`);
    }
  };
  walk(data, 1);
  return flat;
}

function jsonTensorData(name: string, datatype: Datatype, dims: number[], data: unknown): TensorData {
  if (!Array.isArray(data)) bad(`Input ${show(name)}: \`data\` must be an array`);
  const flat = flatData(name, data as unknown[], dims.length);
  const count = elementCount(dims);
  if (flat.length !== count)
    bad(`Input ${show(name)}: shape ${show(dims)} needs ${count} values, got ${flat.length}`);
  const values = tensorDataFromJson(datatype, flat);
  if (typeof values === 'string') bad(`Input ${show(name)}: ${values}`);
  return values;
}

function toTensor(spec: TensorSpec, input: Record<string, unknown>, blob: Buffer | undefined): Tensor {
  const { datatype } = spec;
  if (input.datatype !== datatype) {
    bad(`Input ${show(spec.name)}: datatype ${show(input.datatype)} does not match the model's ${datatype}`);
  }
  if (!isDatatype(datatype)) bad(`Input ${show(spec.name)}: datatype ${show(datatype)} is not supported`);
  const dims = checkShape(spec, input.shape);
  if (blob === undefined)
    return {
      name: spec.name,
      datatype,
      shape: dims,
      data: jsonTensorData(spec.name, datatype, dims, input.data),
    };
  if (input.data !== undefined)
    bad(`Input ${show(spec.name)}: give \`data\` or \`parameters.binary_data_size\`, not both`);
  const count = elementCount(dims);
  if (datatype !== 'BYTES' && blob.length !== binarySize(datatype, count))
    bad(
      `Input ${show(spec.name)}: has ${blob.length} bytes of binary data, but shape ${show(dims)} of ${datatype} needs ${binarySize(datatype, count)}`,
    );
  return {
    name: spec.name,
    datatype,
    shape: dims,
    data: decodeTensorBytes(spec.name, datatype, blob, count),
  };
}

/**
 * Parses a JSON inference request. `binary` is the part of the body after the JSON header (binary tensor
 * extension): the inputs with `binary_data_size` take their bytes from it in the order they appear in the JSON,
 * and together they must use it exactly.
 */
export function parseInferRequest(
  body: unknown,
  contract: ModelContract,
  binary: Buffer = EMPTY,
): ParsedInferRequest {
  if (!isObject(body)) bad('Inference request must be a JSON object');
  if (body.id !== undefined && typeof body.id !== 'string')
    bad(`\`id\` must be a string, got ${show(body.id)}`);
  const binaryAll =
    booleanParameter(parametersOf(body, 'Inference request'), 'binary_data_output', 'Inference request') ??
    false;
  if (!Array.isArray(body.inputs)) bad('Inference request needs an `inputs` array');
  const byName = new Map<string, Record<string, unknown>>();
  const blobs = new Map<string, Buffer>();
  let offset = 0;
  for (const input of body.inputs as unknown[]) {
    if (!isObject(input) || typeof input.name !== 'string')
      bad(`Every input needs a \`name\`, got ${show(input)}`);
    if (byName.has(input.name)) bad(`Input ${show(input.name)} is given twice`);
    byName.set(input.name, input);
    // Nearly every input has no parameters: no need to name it for an error that cannot happen.
    if (input.parameters === undefined) continue;
    const size = binaryDataSize(input, `Input ${show(input.name)}`);
    if (size === undefined) continue;
    if (offset + size > binary.length) {
      bad(
        `Input ${show(input.name)}: binary_data_size ${size} runs past the end of the body ` +
          `(${binary.length - offset} bytes of binary data left${binary.length === 0 ? `; is ${INFERENCE_HEADER} missing?` : ''})`,
      );
    }
    blobs.set(input.name, binary.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== binary.length) {
    bad(
      `The body has ${binary.length} bytes of binary data after the JSON header, but the inputs' binary_data_size add up to ${offset}`,
    );
  }
  for (const name of byName.keys()) {
    if (!contract.inputs.some((s) => s.name === name))
      bad(`Unknown input ${show(name)} for model ${show(contract.name)}`);
  }
  const inputs = contract.inputs.map((spec) => {
    const input = byName.get(spec.name);
    if (input === undefined) bad(`Missing input ${show(spec.name)} for model ${show(contract.name)}`);
    return toTensor(spec, input, blobs.get(spec.name));
  });
  let outputNames = contract.outputs.map((o) => o.name);
  let binaryOutputs = outputNames.map(() => binaryAll);
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs) || body.outputs.length === 0)
      bad('`outputs` must be a non-empty array (leave it out to get every output)');
    const requested = (body.outputs as unknown[]).map((o) => {
      if (!isObject(o) || typeof o.name !== 'string')
        bad(`Every requested output needs a \`name\`, got ${show(o)}`);
      if (!contract.outputs.some((s) => s.name === o.name))
        bad(`Unknown output ${show(o.name)} for model ${show(contract.name)}`);
      const where = `Output ${show(o.name)}`;
      return {
        name: o.name,
        binary: booleanParameter(parametersOf(o, where), 'binary_data', where) ?? binaryAll,
      };
    });
    outputNames = requested.map((o) => o.name);
    const twice = outputNames.find((n, i) => outputNames.indexOf(n) !== i);
    if (twice !== undefined) bad(`Output ${show(twice)} is requested twice`);
    binaryOutputs = requested.map((o) => o.binary);
  }
  return { ...(typeof body.id === 'string' ? { id: body.id } : {}), inputs, outputNames, binaryOutputs };
}

/**
 * Parses a raw binary request (`Inference-Header-Content-Length: 0`): the body is the data of the model's only
 * input as one batch-1 request, and every output is answered as binary, as Triton does.
 */
export function parseRawInferRequest(binary: Buffer, contract: ModelContract): ParsedInferRequest {
  const [spec, ...others] = contract.inputs;
  if (spec === undefined || others.length > 0) {
    bad(
      `A raw binary request (${INFERENCE_HEADER}: 0) needs a model with one input; ${show(contract.name)} has ${contract.inputs.length}`,
    );
  }
  if (spec.shape.slice(1).includes(-1)) {
    bad(
      `A raw binary request cannot be used with input ${show(spec.name)} of variable shape ${show(spec.shape)}`,
    );
  }
  const shape = spec.shape.map((d) => (d === -1 ? 1 : d));
  const tensor = toTensor(spec, { datatype: spec.datatype, shape }, binary);
  const outputNames = contract.outputs.map((o) => o.name);
  return { inputs: [tensor], outputNames, binaryOutputs: outputNames.map(() => true) };
}
