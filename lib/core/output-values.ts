/**
 * The text of one output tensor element in an output CSV: FP32 as {@link formatProbability} writes it (the
 * shortest text that reads back the same float32), other numbers as JavaScript prints them, FP16 by its value,
 * 64-bit integers with every digit, BOOL as `true`/`false`, BYTES as the string itself (quoted by the caller
 * where CSV needs it).
 */
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { ScoredBatch } from '../types.js';
import { fromHalfBits } from './fp16.js';
import { formatProbability } from './probability-text.js';
import type { Tensor } from './tensor.js';

/** Element `i` of a tensor as text. */
export function elementText(tensor: Tensor, i: number): string {
  const { data } = tensor;
  if (Array.isArray(data)) return data[i] as string;
  const v = data[i] as number | bigint;
  if (typeof v === 'bigint') return String(v);
  if (data instanceof Float32Array) return formatProbability(v);
  if (tensor.datatype === 'BOOL') return v === 0 ? 'false' : 'true';
  if (tensor.datatype === 'FP16') return String(fromHalfBits(v));
  return String(v);
}

/** A tensor's data as float32 (a classifier's probabilities); the data itself when it is float32 already. */
export function float32Data(tensor: Tensor): Float32Array {
  const { data } = tensor;
  if (data instanceof Float32Array) return data;
  if (Array.isArray(data)) return Float32Array.from(data, Number);
  if (tensor.datatype === 'FP16') return Float32Array.from(data as Uint16Array, fromHalfBits);
  return Float32Array.from(data as ArrayLike<number>, Number);
}

/** The output tensor of that name in a scored batch; a model's answer without it is BI_ERR_BAD_RESPONSE. */
export function outputTensor(batch: ScoredBatch, name: string): Tensor {
  const tensor = batch.outputs.find((t) => t.name === name);
  if (tensor === undefined)
    throw new BatchInferError(
      ErrorCodes.BAD_RESPONSE,
      `The model's answer lacks output ${JSON.stringify(name)}`,
    );
  return tensor;
}

/**
 * Positions of the kept columns among the input's, in the kept order; a kept column the input lacks is
 * BI_ERR_MISSING_COLUMN.
 */
export function keptPositions(keep: readonly string[], columns: readonly string[]): number[] {
  const missing = keep.filter((c) => !columns.includes(c));
  if (missing.length > 0)
    throw new BatchInferError(
      ErrorCodes.MISSING_COLUMN,
      `Cannot keep column(s) the input lacks: ${missing.join(', ')} (input has: ${columns.join(', ')})`,
      { context: { column: missing[0] as string } },
    );
  return keep.map((c) => columns.indexOf(c));
}

/**
 * A classifier's probabilities (rows × labels): the batch's, or, when it has none (a ModelScorer not told
 * which output holds them), its probability output `name`'s as float32.
 */
export function probabilitiesOf(batch: ScoredBatch, name: string | undefined): Float32Array {
  if (name === undefined || batch.probabilities.length > 0 || batch.rows.length === 0)
    return batch.probabilities;
  return float32Data(outputTensor(batch, name));
}
