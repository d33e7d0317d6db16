/**
 * Tensor plumbing of dynamic batching: which requests can share a run (same inputs, same sizes past dim 0),
 * concatenating their inputs along dim 0, and splitting the run's outputs back into one set per request.
 */
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import type { Tensor, TensorData } from './types.js';

type TypedArrayConstructor = new (length: number) => TensorData;

/** Requests with equal keys can be concatenated: same input names and datatypes, same dims after the first. */
export function batchKey(inputs: readonly Tensor[]): string {
  return inputs
    .map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`)
    .sort()
    .join('|');
}

/** Rows of a request: its inputs' first dim (they agree for a well-formed batched model). */
export function rowsOf(inputs: readonly Tensor[]): number {
  return inputs[0]?.shape[0] ?? 0;
}

function allocate(like: TensorData, length: number): TensorData {
  return new (like.constructor as TypedArrayConstructor)(length);
}

/** A copy of `inputs` that owns its buffers, so they can be transferred without detaching the caller's. */
export function copyTensors(inputs: readonly Tensor[]): Tensor[] {
  return inputs.map((t) => ({ ...t, shape: [...t.shape], data: t.data.slice() }));
}

/** Concatenates the inputs of requests with one batch key along dim 0, in request order. */
export function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  const [first] = requests;
  if (first === undefined) return [];
  return first.map((head) => {
    const parts = requests.map((inputs) => inputs.find((t) => t.name === head.name) as Tensor);
    const data = allocate(
      head.data,
      parts.reduce((n, p) => n + p.data.length, 0),
    );
    let offset = 0;
    for (const part of parts) {
      (data as Float32Array).set(part.data as Float32Array, offset);
      offset += part.data.length;
    }
    const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 0), 0);
    return { name: head.name, datatype: head.datatype, shape: [rows, ...head.shape.slice(1)], data };
  });
}

/**
 * Splits a batched run's outputs by `rows` (one entry per request), keeping each request's `outputNames` in the
 * order it asked. Fails when an output's first dim is not the batch's row count: then the model does not
 * batch the way its contract claims, and the caller falls back to running requests one by one.
 */
export function splitOutputs(
  outputs: readonly Tensor[],
  rows: readonly number[],
  outputNames: readonly (readonly string[])[],
): Tensor[][] {
  const total = rows.reduce((a, b) => a + b, 0);
  const parts = new Map<string, Tensor[]>();
  for (const output of outputs) {
    if (output.shape[0] !== total) {
      throw new BatchInferError(
        ErrorCodes.INFERENCE,
        `Output ${output.name} has ${output.shape[0]} rows for a batch of ${total}`,
      );
    }
    const rowSize = output.shape.slice(1).reduce((a, b) => a * b, 1);
    let start = 0;
    parts.set(
      output.name,
      rows.map((n) => {
        const data = output.data.slice(start * rowSize, (start + n) * rowSize) as TensorData;
        start += n;
        return { name: output.name, datatype: output.datatype, shape: [n, ...output.shape.slice(1)], data };
      }),
    );
  }
  return outputNames.map((names, i) => names.map((name) => parts.get(name)?.[i] as Tensor));
}
