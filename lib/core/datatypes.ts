/**
 * Open Inference Protocol datatypes ↔ typed arrays ↔ onnxruntime tensor types. BYTES and FP16 have no plain
 * JSON form worth supporting here and are refused with a clear message; every numeric and BOOL type works.
 */
import type { Datatype } from './model-contract.js';

export type NumericDatatype = Exclude<Datatype, 'BYTES' | 'FP16'>;

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
  FP32: { ort: 'float32', bytes: 4, create: (n) => new Float32Array(n), bigint: false },
  FP64: { ort: 'float64', bytes: 8, create: (n) => new Float64Array(n), bigint: false },
};

export function isNumericDatatype(x: unknown): x is NumericDatatype {
  return typeof x === 'string' && Object.hasOwn(INFO, x);
}

export function datatypeInfo(datatype: NumericDatatype): DatatypeInfo {
  return INFO[datatype];
}

/** The OIP datatype of an onnxruntime tensor type, or undefined for types we do not serve. */
export function datatypeOfOrt(ortType: string): NumericDatatype | undefined {
  for (const [dt, info] of Object.entries(INFO)) if (info.ort === ortType) return dt as NumericDatatype;
  return undefined;
}

/** Number of elements of a concrete shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
