/**
 * Tensor plumbing of dynamic batching: which requests can share a run (same inputs, same sizes past dim 0),
 * concatenating their inputs along dim 0 (lib/core/tensor.ts, for every datatype, strings included), and
 * splitting the run's outputs back into one set per request.
 */
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import { concatRows, copyTensors, sliceRows } from '../../lib/core/tensor.js';
import type { Tensor } from './types.js';

export { copyTensors, rowsOf } from '../../lib/core/tensor.js';

/** Requests with equal keys can be concatenated: same input names and datatypes, same dims after the first. */
export function batchKey(inputs: readonly Tensor[]): string {
  return inputs
    .map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`)
    .sort()
    .join('|');
}

/** Concatenates the inputs of requests with one batch key along dim 0, in request order. */
export function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  // A single request's inputs are still copied: they move to the worker, and the caller keeps its own.
  return requests.length === 1 ? copyTensors(requests[0] as Tensor[]) : concatRows(requests);
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
    let start = 0;
    parts.set(
      output.name,
      rows.map((n) => {
        // A copy per request (not a view of the batch's buffer), so each answer owns only its own rows.
        const [part] = sliceRows([output], start, n) as [Tensor];
        start += n;
        return { ...part, data: part.data.slice() };
      }),
    );
  }
  return outputNames.map((names, i) => names.map((name) => parts.get(name)?.[i] as Tensor));
}
