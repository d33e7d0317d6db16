/**
 * An inference worker thread: holds one onnxruntime session per loaded model and runs them on request.
 * `session.run()` is synchronous native work on the calling thread (serving.md §8), which is the reason this
 * file exists: here it blocks only this worker, never the server's event loop. Output buffers are transferred
 * back, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { ortFeeds, outputTensors } from '../../lib/onnx/tensors.js';
import type { Tensor } from './types.js';
import {
  ownedBuffers,
  type SerializedError,
  type WorkerReply,
  type WorkerRequest,
  type WorkerSettings,
} from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('server/inference/worker.ts must run in a worker thread');
const settings = workerData as WorkerSettings;
const sessions = new Map<string, ort.InferenceSession>();

async function load(request: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(request.onnx, {
      intraOpNumThreads: settings.intraOpThreads,
      // One run at a time per worker: parallelism comes from the pool, not from inter-op threads.
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (cause) {
    throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, 'onnxruntime cannot load model.onnx', { cause });
  }
  const missing = [
    ...request.inputNames.filter((n) => !session.inputNames.includes(n)).map((n) => `input ${n}`),
    ...request.outputNames.filter((n) => !session.outputNames.includes(n)).map((n) => `output ${n}`),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `the contract names ${missing.join(', ')} that model.onnx lacks`,
    );
  }
  await sessions.get(request.key)?.release();
  sessions.set(request.key, session);
}

async function run(request: Extract<WorkerRequest, { type: 'run' }>): Promise<Tensor[]> {
  const session = sessions.get(request.key);
  if (session === undefined) {
    throw new BatchInferError(ErrorCodes.INFERENCE, `Model ${request.key} is not loaded in this worker`);
  }
  const feeds = ortFeeds(request.inputs);
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    result = await session.run(feeds, request.outputNames);
  } catch (cause) {
    throw new BatchInferError(ErrorCodes.INFERENCE, 'onnxruntime failed to run the model', { cause });
  }
  return outputTensors(result, request.outputNames);
}

function serialize(err: unknown): SerializedError {
  if (isBatchInferError(err)) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return { code: err.code, message: err.message, ...(cause === undefined ? {} : { cause }) };
  }
  return { code: ErrorCodes.INFERENCE, message: 'Inference worker failed', cause: String(err) };
}

async function handle(request: WorkerRequest): Promise<WorkerReply & { outputs?: Tensor[] }> {
  if (request.type === 'load') await load(request);
  else if (request.type === 'unload') {
    await sessions.get(request.key)?.release();
    sessions.delete(request.key);
  } else return { type: 'done', id: request.id, outputs: await run(request) };
  return { type: 'done', id: request.id };
}

port.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (reply) => port.postMessage(reply, reply.outputs === undefined ? [] : ownedBuffers(reply.outputs)),
    (err: unknown) => port.postMessage({ type: 'failed', id: request.id, error: serialize(err) }),
  );
});
port.postMessage({ type: 'ready' } satisfies WorkerReply);
