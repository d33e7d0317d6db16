/**
 * The inference interface every route uses. Tensors are plain typed arrays (transferable to worker threads),
 * never onnxruntime objects, so how a model is run — on this thread, in a worker pool, batched with other
 * requests — is the engine's business alone.
 */
import type { NumericDatatype } from '../../lib/core/datatypes.js';

export type TensorData =
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

export interface Tensor {
  name: string;
  datatype: NumericDatatype;
  shape: number[];
  data: TensorData;
}

export interface InferOptions {
  /** Epoch milliseconds after which the request is no longer worth computing. */
  deadline?: number;
}

export interface InferenceEngine {
  /** Runs the model on validated inputs; resolves with the requested outputs in the order asked. */
  infer(inputs: Tensor[], outputNames: readonly string[], options?: InferOptions): Promise<Tensor[]>;
  /** Finishes queued work, then releases the session(s). */
  close(): Promise<void>;
}
