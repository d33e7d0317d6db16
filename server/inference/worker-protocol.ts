/**
 * Messages between the worker pool (main thread) and an inference worker. Every request carries an `id` that its
 * reply echoes. Errors cross the thread boundary as plain data, since structured cloning drops an Error's class
 * and `code`; the pool turns them back into BatchInferError.
 */
import type { ErrorCode } from '../../lib/errors.js';
import type { Tensor } from './types.js';

export interface WorkerSettings {
  /** onnxruntime intra-op threads of every session in the worker. */
  intraOpThreads: number;
}

export type WorkerRequest =
  | {
      type: 'load';
      id: number;
      key: string;
      /** The model.onnx bytes, read once by the pool so every worker (and a replacement) runs the same model. */
      onnx: Uint8Array;
      inputNames: string[];
      outputNames: string[];
    }
  | { type: 'unload'; id: number; key: string }
  | { type: 'run'; id: number; key: string; inputs: Tensor[]; outputNames: string[] };

export interface SerializedError {
  code: ErrorCode;
  message: string;
  /** The underlying (onnxruntime) message, for the log. */
  cause?: string;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; outputs?: Tensor[] }
  | { type: 'failed'; id: number; error: SerializedError };

/**
 * The buffers of `tensors` that can move to the other thread instead of being copied: those a typed array spans
 * entirely (a view into a larger buffer, such as Node's pooled Buffers, must not take its neighbours along).
 */
export function ownedBuffers(tensors: readonly Tensor[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of tensors) {
    // Strings (BYTES) are cloned; only typed arrays have a buffer to move.
    if (Array.isArray(data)) continue;
    if (
      data.buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === data.buffer.byteLength
    )
      buffers.add(data.buffer);
  }
  return [...buffers];
}
