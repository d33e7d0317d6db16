/**
 * Tensor data as the binary tensor extension carries it (triton-inference-server/server
 * docs/protocol/extension_binary_data.md): little-endian, row-major, no padding, BOOL one byte 0/1, FP16 its bit
 * patterns, and each BYTES element a 4-byte little-endian length followed by that many bytes (UTF-8 text here).
 * The server reads requests and writes answers with it, the `v2-binary` client the other way round.
 */
import { endianness } from 'node:os';
import { datatypeInfo, type NumericDatatype } from './datatypes.js';
import type { Datatype } from './model-contract.js';
import type { Tensor, TensorData, TypedTensorData } from './tensor.js';

// Every platform Node runs on today is little-endian; the swap keeps the wire format right on one that is not.
const NATIVE_LE = endianness() === 'LE';

/** Byte size of `count` elements of a fixed-size `datatype` on the wire. */
export function binarySize(datatype: NumericDatatype, count: number): number {
  return datatypeInfo(datatype).bytes * count;
}

/** Reads `count` length-prefixed BYTES elements, which must use `bytes` exactly. */
function decodeStrings(bytes: Uint8Array, count: number, bad: (message: string) => never): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > buffer.length) bad(`binary BYTES data ends before element ${i} of ${count}`);
    const length = buffer.readUInt32LE(at);
    at += 4;
    if (at + length > buffer.length)
      bad(`BYTES element ${i} claims ${length} bytes; only ${buffer.length - at} are left`);
    out.push(buffer.toString('utf8', at, at + length));
    at += length;
  }
  if (at !== buffer.length)
    bad(`${buffer.length - at} bytes of binary BYTES data are left after ${count} elements`);
  return out;
}

function encodeStrings(values: readonly string[]): Buffer {
  const parts = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, at);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/**
 * Decodes `count` elements of one tensor's wire bytes into its data; `bad` throws what a malformed one is. The
 * bytes are copied, because a slice of a body is rarely aligned to the element size.
 */
export function decodeTensorBytes(
  datatype: Datatype,
  bytes: Uint8Array,
  count: number,
  bad: (message: string) => never,
): TensorData {
  if (datatype === 'BYTES') return decodeStrings(bytes, count, bad);
  const expected = binarySize(datatype, count);
  if (bytes.length !== expected)
    bad(`has ${bytes.length} bytes of binary data, but ${count} ${datatype} values need ${expected}`);
  const info = datatypeInfo(datatype);
  const typed = info.create(bytes.length / info.bytes) as TypedTensorData;
  const view = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  view.set(bytes);
  if (!NATIVE_LE) swapBytes(view, info.bytes);
  if (datatype === 'BOOL') {
    const bools = typed as Uint8Array;
    const i = bools.findIndex((v) => v > 1);
    if (i >= 0) bad(`BOOL element ${i} is the byte ${bools[i]}, expected 0 or 1`);
  }
  return typed;
}

/** A tensor's data as wire bytes. */
export function encodeTensorBytes(tensor: Tensor): Buffer {
  const { data } = tensor;
  if (Array.isArray(data)) return encodeStrings(data);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (NATIVE_LE) return bytes;
  const copy = Buffer.from(bytes);
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}
