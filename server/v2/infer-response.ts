/**
 * Builds an Open Inference Protocol inference response. Outputs asked for as binary carry
 * `parameters.binary_data_size` instead of `data`, and their bytes follow the JSON in output order
 * (binary tensor extension, binary.ts); without any, the response is plain JSON.
 */
import type { Tensor } from '../inference/types.js';
import type { ServedModel } from '../served-model.js';
import { binaryBody, encodeTensorBytes } from './binary.js';
import type { ParsedInferRequest } from './infer-request.js';

export type InferResponse =
  { kind: 'json'; body: Record<string, unknown> } | { kind: 'binary'; body: Buffer; headerLength: number };

function jsonData(output: Tensor): unknown[] {
  if (output.datatype === 'BOOL') return Array.from(output.data as Uint8Array, (v) => v !== 0);
  if (output.data instanceof BigInt64Array || output.data instanceof BigUint64Array)
    return Array.from(output.data, Number);
  return Array.from(output.data as Float32Array);
}

export function inferResponse(
  model: ServedModel,
  request: ParsedInferRequest,
  outputs: readonly Tensor[],
): InferResponse {
  const blobs: Buffer[] = [];
  const header = {
    model_name: model.name,
    model_version: String(model.version),
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs: outputs.map((o, i) => {
      const head = { name: o.name, datatype: o.datatype, shape: o.shape };
      if (request.binaryOutputs[i] !== true) return { ...head, data: jsonData(o) };
      const blob = encodeTensorBytes(o);
      blobs.push(blob);
      return { ...head, parameters: { binary_data_size: blob.length } };
    }),
  };
  if (blobs.length === 0) return { kind: 'json', body: header };
  return { kind: 'binary', ...binaryBody(header, blobs) };
}
