/**
 * Triton's binary tensor data extension (triton-inference-server/server docs/protocol/extension_binary_data.md;
 * shared/research/serving.md §1.5). A body is a JSON header of `Inference-Header-Content-Length` bytes followed
 * by the tensors' raw bytes, in the order the tensors appear in the JSON, each `parameters.binary_data_size`
 * long: little-endian, row-major, no padding, BOOL as one byte 0/1. A header length of 0 is the "raw binary
 * request": the whole body is the single input's data.
 */
import { endianness } from 'node:os';
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import { datatypeInfo, type NumericDatatype } from '../../lib/core/datatypes.js';
import type { Tensor, TensorData } from '../inference/types.js';

/** Request and response header giving the length of the JSON part of a binary body. */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

export type SplitBody =
  | { kind: 'json'; json: Buffer; binary: Buffer }
  /** `Inference-Header-Content-Length: 0`: no JSON at all, the body is one tensor's bytes. */
  | { kind: 'raw'; binary: Buffer };

const EMPTY = Buffer.alloc(0);
// Every platform Node runs on today is little-endian; the swap keeps the wire format right on one that is not.
const NATIVE_LE = endianness() === 'LE';

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

/** Byte size of `count` elements of `datatype` on the wire. */
export function binarySize(datatype: NumericDatatype, count: number): number {
  return datatypeInfo(datatype).bytes * count;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/**
 * Decodes one tensor's wire bytes into a typed array. The caller has checked the size; the bytes are copied,
 * because a slice of the request body is rarely aligned to the element size.
 */
export function decodeTensorBytes(name: string, datatype: NumericDatatype, bytes: Uint8Array): TensorData {
  const info = datatypeInfo(datatype);
  const typed = info.create(bytes.length / info.bytes) as TensorData;
  const view = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  view.set(bytes);
  if (!NATIVE_LE) swapBytes(view, info.bytes);
  if (datatype === 'BOOL') {
    const bools = typed as Uint8Array;
    const i = bools.findIndex((v) => v > 1);
    if (i >= 0) bad(`Input ${show(name)}: BOOL element ${i} is the byte ${bools[i]}, expected 0 or 1`);
  }
  return typed;
}

/** A tensor's data as wire bytes. */
export function encodeTensorBytes(tensor: Tensor): Buffer {
  const { data } = tensor;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (NATIVE_LE) return bytes;
  const copy = Buffer.from(bytes);
  swapBytes(copy, datatypeInfo(tensor.datatype).bytes);
  return copy;
}
