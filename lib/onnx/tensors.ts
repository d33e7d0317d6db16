/**
 * batch-infer tensors ↔ onnxruntime tensors, for every place a session runs (the local scorer, the server's
 * inference workers). Typed arrays and string arrays are handed over as they are, without a copy.
 */
import * as ort from 'onnxruntime-node';
import { BatchInferError, ErrorCodes } from '../errors.js';
import { datatypeOfOrt, ortType } from '../core/datatypes.js';
import type { Tensor } from '../core/tensor.js';

export function ortFeeds(inputs: readonly Tensor[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    feeds[input.name] = new ort.Tensor(
      ortType(input.datatype) as 'float32',
      input.data as Float32Array,
      input.shape,
    );
  }
  return feeds;
}

/** The named outputs of a run, in the order named. */
export function outputTensors(
  result: ort.InferenceSession.OnnxValueMapType,
  names: readonly string[],
): Tensor[] {
  return names.map((name) => {
    const tensor = result[name] as ort.Tensor;
    const datatype = datatypeOfOrt(tensor.type);
    if (datatype === undefined)
      throw new BatchInferError(ErrorCodes.INFERENCE, `Output ${name} has unsupported type ${tensor.type}`);
    return { name, datatype, shape: [...tensor.dims], data: tensor.data };
  });
}
