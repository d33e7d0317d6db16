/** Options of `createModelServer`, normalized once into a frozen object. */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { BatchInferError, ErrorCodes, show } from '../lib/errors.js';
import { integerOption, refuseUnknownKeys, stringOption } from '../lib/core/options.js';
import { BUNDLED_MODELS_DIR } from '../lib/model-files.js';

export interface ModelServerOptions {
  /**
   * Model repository directory: `<dir>/<model>/<version>/model.onnx` + `model.json`.
   * @default the repository bundled with batch-infer (the `weather` model)
   */
  models?: string;
  /**
   * Model that answers the single-model routes (SageMaker `/invocations`, Vertex AI predict).
   * @default the only model in the repository, else the first by name
   */
  defaultModel?: string;
  /**
   * Largest request body accepted, in bytes; larger bodies get 413.
   * @default 67108864 (64 MiB, as Triton's --http-max-input-size)
   */
  maxBodyBytes?: number;
  /**
   * Time a request may take, in milliseconds, before it is answered 503 and, if still queued, dropped.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Inference worker threads.
   * @default the number of cores (os.availableParallelism())
   */
  workers?: number;
  /**
   * onnxruntime intra-op threads per worker.
   * @default 1
   */
  intraOpThreads?: number;
  /**
   * Largest batch (rows) that dynamic batching forms from queued requests; 0 disables dynamic batching.
   * @default 256
   */
  maxBatchSize?: number;
  /**
   * How long a request may wait for batch-mates, in milliseconds (Triton's max_queue_delay).
   * @default 2
   */
  maxQueueDelayMs?: number;
  /**
   * Requests queued per model at most; beyond it requests get 503 with Retry-After.
   * @default 1024
   */
  maxQueueSize?: number;
  /**
   * Bearer token that guards the model repository endpoints (index, load, unload). Without one they are refused.
   * @default undefined
   */
  adminToken?: string;
  /**
   * Vertex AI health route (`AIP_HEALTH_ROUTE`).
   * @default "/health"
   */
  vertexHealthRoute?: string;
  /**
   * Vertex AI predict route (`AIP_PREDICT_ROUTE`).
   * @default "/predict"
   */
  vertexPredictRoute?: string;
  /**
   * pino logger for requests, failures and model loading.
   * @default a silent logger
   */
  logger?: Logger;
}

export interface ResolvedServerOptions {
  readonly models: string;
  readonly defaultModel: string | undefined;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly adminToken: string | undefined;
  readonly vertexHealthRoute: string;
  readonly vertexPredictRoute: string;
}

const KNOWN = [
  'models',
  'defaultModel',
  'maxBodyBytes',
  'requestTimeoutMs',
  'workers',
  'intraOpThreads',
  'maxBatchSize',
  'maxQueueDelayMs',
  'maxQueueSize',
  'adminToken',
  'vertexHealthRoute',
  'vertexPredictRoute',
  'logger',
] as const;

function routeOption(name: string, value: unknown, fallback: string): string {
  const route = stringOption(name, value, fallback);
  if (!route.startsWith('/')) {
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`${name}\`: expected a path starting with /, got ${show(route)}`,
      {
        context: { option: name },
      },
    );
  }
  return route;
}

export function normalizeServerOptions(options: ModelServerOptions): ResolvedServerOptions {
  refuseUnknownKeys('createModelServer', options, KNOWN);
  return Object.freeze({
    models: stringOption('models', options.models, BUNDLED_MODELS_DIR),
    defaultModel: stringOption('defaultModel', options.defaultModel),
    maxBodyBytes: integerOption('maxBodyBytes', options.maxBodyBytes, 64 * 1024 * 1024, 1),
    requestTimeoutMs: integerOption('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1),
    workers: integerOption('workers', options.workers, availableParallelism(), 1, 256),
    intraOpThreads: integerOption('intraOpThreads', options.intraOpThreads, 1, 1, 256),
    maxBatchSize: integerOption('maxBatchSize', options.maxBatchSize, 256, 0),
    maxQueueDelayMs: integerOption('maxQueueDelayMs', options.maxQueueDelayMs, 2, 0, 60_000),
    maxQueueSize: integerOption('maxQueueSize', options.maxQueueSize, 1024, 1),
    adminToken: stringOption('adminToken', options.adminToken),
    vertexHealthRoute: routeOption('vertexHealthRoute', options.vertexHealthRoute, '/health'),
    vertexPredictRoute: routeOption('vertexPredictRoute', options.vertexPredictRoute, '/predict'),
  });
}
