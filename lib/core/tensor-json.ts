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

/** Integer datatypes: the values they hold, as [lowest, one past the highest]. */
const INTEGER_RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 2 ** 8],
  UINT16: [0, 2 ** 16],
  UINT32: [0, 2 ** 32],
  UINT64: [0, 2 ** 64],
  INT8: [-(2 ** 7), 2 ** 7],
  INT16: [-(2 ** 15), 2 ** 15],
  INT32: [-(2 ** 31), 2 ** 31],
  INT64: [-(2 ** 63), 2 ** 63],
};

/**
 * Which JSON values a datatype takes: a value it cannot hold is refused rather than wrapped (300 as INT8),
 * truncated (1.5 as INT32) or overflowed (1e39 as FP32 is Infinity, and a model would answer NaN). A float may
 * be `null`, which is NaN: JSON has no NaN, JSON.stringify writes it as null, and models exported from
 * scikit-learn pipelines take NaN for a missing value.
 */
function elementCheck(datatype: Datatype): (v: unknown) => boolean {
  if (datatype === 'BYTES') return (v) => typeof v === 'string';
  if (datatype === 'BOOL') return (v) => typeof v === 'boolean';
  if (datatype === 'FP16')
    return (v) => v === null || (typeof v === 'number' && (toHalfBits(v) & 0x7c00) !== 0x7c00);
  if (datatype === 'FP64') return (v) => v === null || (typeof v === 'number' && Number.isFinite(v));
  if (datatype === 'FP32')
    return (v) => v === null || (typeof v === 'number' && Number.isFinite(Math.fround(v)));
  const [low, end] = INTEGER_RANGES[datatype] ?? [0, 0];
  return (v) => typeof v === 'number' && Number.isInteger(v) && v >= low && v < end;
}

/**
 * A JSON array's values as tensor data of a datatype, or the reason they are not
 * (`element 3 is 300, not a valid INT8 value`): a value the datatype cannot hold is refused, never wrapped or
 * truncated. 64-bit integers arrive as JSON numbers, exact up to 2^53.
 */
export function tensorDataFromJson(datatype: Datatype, values: readonly unknown[]): TensorData | string {
  const count = values.length;
  const valid = elementCheck(datatype);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!valid(v))
      return `element ${i} is ${v === undefined ? 'missing' : JSON.stringify(v)}, not a valid ${datatype} value`;
  }
  if (datatype === 'BYTES') return (values as string[]).slice();
  const info = datatypeInfo(datatype);
  const out = info.create(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    const n = v === null ? Number.NaN : (v as number);
    if (datatype === 'BOOL') out[i] = v === true ? 1 : 0;
    else out[i] = info.bigint ? BigInt(n) : datatype === 'FP16' ? toHalfBits(n) : n;
  }
  return out as TypedTensorData;
}
