/**
 * Triton's binary tensor data extension (triton-inference-server/server docs/protocol/extension_binary_data.md;
 * shared/research/serving.md §1.5). A body is a JSON header of `Inference-Header-Content-Length` bytes followed
 * by the tensors' raw bytes, in the order the tensors appear in the JSON, each `parameters.binary_data_size`
 * long: little-endian, row-major, no padding, BOOL as one byte 0/1. A header length of 0 is the "raw binary
 * request": the whole body is the single input's data. BYTES elements are each a 4-byte little-endian length and
 * that many bytes (UTF-8 text here), one after the other, as Triton writes them.
 */
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import type { Datatype } from '../../lib/core/model-contract.js';
import type { TensorData } from '../../lib/core/tensor.js';
import { decodeTensorBytes as decode } from '../../lib/core/tensor-bytes.js';

export { binarySize, encodeTensorBytes } from '../../lib/core/tensor-bytes.js';

/** Request and response header giving the length of the JSON part of a binary body. */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

export type SplitBody =
  | { kind: 'json'; json: Buffer; binary: Buffer }
  /** `Inference-Header-Content-Length: 0`: no JSON at all, the body is one tensor's bytes. */
  | { kind: 'raw'; binary: Buffer };

const EMPTY = Buffer.alloc(0);

function bad(message: string): never {
  throw new BatchInferError(ErrorCodes.BAD_REQUEST, message);
}

/** Splits a request body by the `Inference-Header-Content-Length` header (undefined = plain JSON body). */
export function splitBody(body: Buffer, headerLength: string | undefined): SplitBody {
  if (headerLength === undefined) return { kind: 'json', json: body, binary: EMPTY };
  if (!/^\d+$/.test(headerLength.trim()))
    bad(`${INFERENCE_HEADER} must be a non-negative integer, got ${show(headerLength)}`);
  const length = Number(headerLength.trim());
  if (length === 0) return { kind: 'raw', binary: body };
  if (length > body.length)
    bad(`${INFERENCE_HEADER} is ${length} but the body has only ${body.length} bytes`);
  return { kind: 'json', json: body.subarray(0, length), binary: body.subarray(length) };
}

/** A request input's wire bytes as its data; a malformed one is a 400. */
export function decodeTensorBytes(
  name: string,
  datatype: Datatype,
  bytes: Uint8Array,
  count: number,
): TensorData {
  return decode(datatype, bytes, count, (message) => bad(`Input ${show(name)}: ${message}`));
}
