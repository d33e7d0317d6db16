/**
 * Tensor data as Open Inference Protocol JSON (shared/spec/inference_rest.md §Tensor Data): a flat array in
 * row-major order, BOOL as true/false, BYTES as strings, FP16 as numbers, 64-bit integers with all their digits.
 * Non-finite floats are written as null, as JSON.stringify does (the server reads null as NaN). FP32 values are
 * written with the 9 significant digits that give back the same float32 (lib/core/probability-text.ts).
 */
import { fromHalfBits, toHalfBits } from './fp16.js';
import { datatypeInfo } from './datatypes.js';
import type { Datatype } from './model-contract.js';
import { float32Json, formatProbability } from './probability-text.js';
import type { Tensor, TensorData, TypedTensorData } from './tensor.js';

/** A tensor's values as a JSON array. */
export function tensorDataJson(datatype: Datatype, data: TensorData): string {
  if (Array.isArray(data)) return JSON.stringify(data);
  if (data instanceof Float32Array) return float32Json(data);
  if (datatype === 'BOOL') return JSON.stringify(Array.from(data as Uint8Array, (v) => v !== 0));
  if (datatype === 'FP16') return JSON.stringify(Array.from(data as Uint16Array, fromHalfBits));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return `[${data.join(',')}]`;
  return JSON.stringify(Array.from(data as Float64Array));
}

/** Element `i` of a tensor as a JSON value. */
export function elementJson(tensor: Tensor, i: number): string {
  const { data } = tensor;
  if (Array.isArray(data)) return JSON.stringify(data[i]);
  const v = data[i] as number | bigint;
  if (typeof v === 'bigint') return String(v);
  if (tensor.datatype === 'BOOL') return v === 0 ? 'false' : 'true';
  const n = tensor.datatype === 'FP16' ? fromHalfBits(v) : v;
  if (!Number.isFinite(n)) return 'null';
  return data instanceof Float32Array ? formatProbability(n) : String(n);
}

/**
 * A JSON array's values as tensor data of a datatype, or a reason they are not: a value the datatype cannot
 * hold is refused, never wrapped or truncated.
 */
export function tensorDataFromJson(datatype: Datatype, values: readonly unknown[]): TensorData | string {
  const count = values.length;
  if (datatype === 'BYTES') {
    const i = values.findIndex((v) => typeof v !== 'string');
    return i < 0 ? (values as string[]).slice() : `element ${i} is not a string`;
  }
  const info = datatypeInfo(datatype);
  const out = info.create(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (datatype === 'BOOL') {
      if (typeof v !== 'boolean') return `element ${i} is not a boolean`;
      out[i] = v ? 1 : 0;
    } else if (v === null && (datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64'))
      out[i] = datatype === 'FP16' ? toHalfBits(Number.NaN) : Number.NaN;
    else if (typeof v !== 'number') return `element ${i} is not a number`;
    else if (info.bigint) {
      if (!Number.isInteger(v)) return `element ${i} is not an integer`;
      out[i] = BigInt(v);
    } else out[i] = datatype === 'FP16' ? toHalfBits(v) : v;
  }
  return out as TypedTensorData;
}
