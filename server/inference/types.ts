/**
 * The inference interface every route uses. Tensors are lib/core/tensor.ts's (typed arrays, transferable to
 * worker threads, or strings for BYTES), never onnxruntime objects, so how a model is run — on this thread, in a
 * worker pool, batched with other requests — is the engine's business alone.
 */
import type { Tensor } from '../../lib/core/tensor.js';

export type { Tensor, TensorData } from '../../lib/core/tensor.js';

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
