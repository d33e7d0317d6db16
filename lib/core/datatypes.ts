/**
 * Open Inference Protocol datatypes ↔ typed arrays ↔ onnxruntime tensor types. Every OIP datatype is served:
 * numbers and BOOL in typed arrays (BOOL one byte 0/1, FP16 its 16-bit patterns, lib/core/fp16.ts), BYTES as
 * an array of strings (what onnxruntime's string tensors take and give).
 */
import type { Datatype } from './model-contract.js';

/** Datatypes held in a typed array: every one but BYTES. */
export type NumericDatatype = Exclude<Datatype, 'BYTES'>;

interface DatatypeInfo {
  ort: string;
  bytes: number;
  create: (length: number) => ArrayLike<number | bigint> & { [i: number]: number | bigint };
  bigint: boolean;
}

const INFO: Record<NumericDatatype, DatatypeInfo> = {
  BOOL: { ort: 'bool', bytes: 1, create: (n) => new Uint8Array(n), bigint: false },
  UINT8: { ort: 'uint8', bytes: 1, create: (n) => new Uint8Array(n), bigint: false },
  UINT16: { ort: 'uint16', bytes: 2, create: (n) => new Uint16Array(n), bigint: false },
  UINT32: { ort: 'uint32', bytes: 4, create: (n) => new Uint32Array(n), bigint: false },
  UINT64: { ort: 'uint64', bytes: 8, create: (n) => new BigUint64Array(n), bigint: true },
  INT8: { ort: 'int8', bytes: 1, create: (n) => new Int8Array(n), bigint: false },
  INT16: { ort: 'int16', bytes: 2, create: (n) => new Int16Array(n), bigint: false },
  INT32: { ort: 'int32', bytes: 4, create: (n) => new Int32Array(n), bigint: false },
  INT64: { ort: 'int64', bytes: 8, create: (n) => new BigInt64Array(n), bigint: true },
  FP16: { ort: 'float16', bytes: 2, create: (n) => new Uint16Array(n), bigint: false },
  FP32: { ort: 'float32', bytes: 4, create: (n) => new Float32Array(n), bigint: false },
  FP64: { ort: 'float64', bytes: 8, create: (n) => new Float64Array(n), bigint: false },
};

export const DATATYPES: readonly Datatype[] = [...(Object.keys(INFO) as NumericDatatype[]), 'BYTES'];

export function isDatatype(x: unknown): x is Datatype {
  return x === 'BYTES' || isNumericDatatype(x);
}

export function isNumericDatatype(x: unknown): x is NumericDatatype {
  return typeof x === 'string' && Object.hasOwn(INFO, x);
}

export function datatypeInfo(datatype: NumericDatatype): DatatypeInfo {
  return INFO[datatype];
}

/** onnxruntime's name of a datatype's tensor type. */
export function ortType(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'string' : INFO[datatype].ort;
}

/** The OIP datatype of an onnxruntime tensor type, or undefined for types we do not serve. */
export function datatypeOfOrt(type: string): Datatype | undefined {
  if (type === 'string') return 'BYTES';
  for (const [dt, info] of Object.entries(INFO)) if (info.ort === type) return dt as NumericDatatype;
  return undefined;
}

/** Number of elements of a concrete shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
