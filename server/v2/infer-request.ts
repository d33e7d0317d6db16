/**
 * Validates an Open Inference Protocol inference request against a model's contract and turns its inputs into
 * tensors. Accepts flat or nested `data`, coerces JSON numbers/booleans to the declared datatype,
 * and checks that the shape matches the contract (−1 = any size) and the data length matches the shape.
 * The result is plain typed arrays, ready for any inference engine.
 */
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import { datatypeInfo, elementCount, isNumericDatatype } from '../../lib/core/datatypes.js';
import type { ModelContract, TensorSpec } from '../../lib/core/model-contract.js';
import type { Tensor, TensorData } from '../inference/types.js';

export interface ParsedInferRequest {
  id?: string;
  inputs: Tensor[];
  outputNames: string[];
}

function bad(message: string): never {
  throw new BatchInferError(ErrorCodes.BAD_REQUEST, message);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
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

function toTensor(spec: TensorSpec, input: Record<string, unknown>): Tensor {
  if (input.datatype !== spec.datatype) {
    bad(
      `Input ${show(spec.name)}: datatype ${show(input.datatype)} does not match the model's ${spec.datatype}`,
    );
  }
  if (!isNumericDatatype(spec.datatype))
    bad(`Input ${show(spec.name)}: datatype ${spec.datatype} is not supported in JSON`);
  const dims = checkShape(spec, input.shape);
  if (!Array.isArray(input.data)) bad(`Input ${show(spec.name)}: \`data\` must be an array`);
  const flat = (input.data as unknown[]).flat(Infinity);
  const count = elementCount(dims);
  if (flat.length !== count)
    bad(`Input ${show(spec.name)}: shape ${show(dims)} needs ${count} values, got ${flat.length}`);
  const info = datatypeInfo(spec.datatype);
  const data = info.create(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    const okType =
      spec.datatype === 'BOOL' ? typeof v === 'boolean' : typeof v === 'number' && Number.isFinite(v);
    if (!okType)
      bad(`Input ${show(spec.name)}: element ${i} is ${show(v)}, not a valid ${spec.datatype} value`);
    data[i] = info.bigint ? BigInt(Math.trunc(v as number)) : Number(v);
  }
  return { name: spec.name, datatype: spec.datatype, shape: dims, data: data as TensorData };
}

export function parseInferRequest(body: unknown, contract: ModelContract): ParsedInferRequest {
  if (!isObject(body)) bad('Inference request must be a JSON object');
  if (body.id !== undefined && typeof body.id !== 'string')
    bad(`\`id\` must be a string, got ${show(body.id)}`);
  if (!Array.isArray(body.inputs)) bad('Inference request needs an `inputs` array');
  const byName = new Map<string, Record<string, unknown>>();
  for (const input of body.inputs as unknown[]) {
    if (!isObject(input) || typeof input.name !== 'string')
      bad(`Every input needs a \`name\`, got ${show(input)}`);
    if (byName.has(input.name)) bad(`Input ${show(input.name)} is given twice`);
    byName.set(input.name, input);
  }
  for (const name of byName.keys()) {
    if (!contract.inputs.some((s) => s.name === name))
      bad(`Unknown input ${show(name)} for model ${show(contract.name)}`);
  }
  const inputs = contract.inputs.map((spec) => {
    const input = byName.get(spec.name);
    if (input === undefined) bad(`Missing input ${show(spec.name)} for model ${show(contract.name)}`);
    return toTensor(spec, input);
  });
  let outputNames = contract.outputs.map((o) => o.name);
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) bad('`outputs` must be an array');
    outputNames = (body.outputs as unknown[]).map((o) => {
      if (!isObject(o) || typeof o.name !== 'string')
        bad(`Every requested output needs a \`name\`, got ${show(o)}`);
      if (!contract.outputs.some((s) => s.name === o.name))
        bad(`Unknown output ${show(o.name)} for model ${show(contract.name)}`);
      return o.name;
    });
  }
  return { ...(typeof body.id === 'string' ? { id: body.id } : {}), inputs, outputNames };
}
