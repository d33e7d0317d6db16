/**
 * The one tensor type of batch-infer: a name, an Open Inference Protocol datatype, a shape and the values,
 * row-major. Numbers and BOOL live in typed arrays (transferable to worker threads, what onnxruntime takes), BYTES
 * in an array of strings. Batches, protocol codecs, scorers and the server's inference path all pass these, so an
 * adapter written for one model works for any (DESIGN.md, "One tensor type").
 *
 * The first dimension is the batch: the row helpers below slice, select and concatenate along it.
 */
import { datatypeInfo, elementCount } from './datatypes.js';
import type { Datatype, TensorSpec } from './model-contract.js';

export type TypedTensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A tensor's values: a typed array, or strings for BYTES. */
export type TensorData = TypedTensorData | string[];

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** Rows of a set of tensors: the first one's first dim (they agree for a well-formed batch). */
export function rowsOf(tensors: readonly Tensor[]): number {
  return tensors[0]?.shape[0] ?? 0;
}

/** Elements per row of a tensor (its dims after the first). */
export function rowSize(tensor: Pick<Tensor, 'shape'>): number {
  return elementCount(tensor.shape.slice(1));
}

/** Zero-filled (or empty-string) data for `count` elements of a datatype. */
export function allocateData(datatype: Datatype, count: number): TensorData {
  return datatype === 'BYTES'
    ? Array.from({ length: count }, () => '')
    : (datatypeInfo(datatype).create(count) as TypedTensorData);
}

/**
 * A tensor of `rows` rows for a contract's tensor spec; a variable dim past the first must be given in `inner`
 * (the dims after the batch).
 */
export function allocateTensor(spec: TensorSpec, rows: number, inner = spec.shape.slice(1)): Tensor {
  const shape = [rows, ...inner];
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: allocateData(spec.datatype, elementCount(shape)),
  };
}

/** A view (typed arrays) or a copy (strings) of rows `start` to `start + count` of each tensor. */
export function sliceRows(tensors: readonly Tensor[], start: number, count: number): Tensor[] {
  return tensors.map((t) => {
    const size = rowSize(t);
    const data = Array.isArray(t.data)
      ? t.data.slice(start * size, (start + count) * size)
      : t.data.subarray(start * size, (start + count) * size);
    return { name: t.name, datatype: t.datatype, shape: [count, ...t.shape.slice(1)], data };
  });
}

/** New tensors holding the given rows of each tensor, in the order given. */
export function selectRows(tensors: readonly Tensor[], rows: readonly number[]): Tensor[] {
  return tensors.map((t) => {
    const size = rowSize(t);
    const data = allocateData(t.datatype, rows.length * size);
    rows.forEach((row, i) => copyElements(t.data, row * size, data, i * size, size));
    return { name: t.name, datatype: t.datatype, shape: [rows.length, ...t.shape.slice(1)], data };
  });
}

function copyElements(from: TensorData, start: number, to: TensorData, at: number, count: number): void {
  if (Array.isArray(from))
    for (let i = 0; i < count; i++) (to as string[])[at + i] = from[start + i] as string;
  else (to as Float32Array).set((from as Float32Array).subarray(start, start + count), at);
}

/**
 * Concatenates sets of tensors with the same names, datatypes and dims past the first along dim 0, in order;
 * the result has the first set's tensors, in its order.
 */
export function concatRows(sets: readonly (readonly Tensor[])[]): Tensor[] {
  const [first] = sets;
  if (first === undefined) return [];
  if (sets.length === 1) return [...first];
  return first.map((head) => {
    const parts = sets.map((set) => set.find((t) => t.name === head.name) as Tensor);
    const data = allocateData(
      head.datatype,
      parts.reduce((n, p) => n + p.data.length, 0),
    );
    let offset = 0;
    for (const part of parts) {
      copyElements(part.data, 0, data, offset, part.data.length);
      offset += part.data.length;
    }
    const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 0), 0);
    return { name: head.name, datatype: head.datatype, shape: [rows, ...head.shape.slice(1)], data };
  });
}

/** A copy of `tensors` that owns its buffers, so they can be transferred without detaching the caller's. */
export function copyTensors(tensors: readonly Tensor[]): Tensor[] {
  return tensors.map((t) => ({ ...t, shape: [...t.shape], data: t.data.slice() }));
}
