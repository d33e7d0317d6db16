/** Options of `createModelServer`, normalized once into a frozen object. */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { BatchInferError, ErrorCodes, show } from '../lib/errors.js';
import { choiceOption, integerOption, refuseUnknownKeys, stringOption } from '../lib/core/options.js';
import { BUNDLED_MODELS_DIR } from '../lib/model-files.js';

/** Who may read `GET /metrics` (option `metricsAccess`). */
export type MetricsAccess = 'open' | 'token' | 'off';

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
   * Models whose one-row run takes less than this many microseconds, timed on the server's thread when the
   * model loads, run on that thread instead of in an inference worker: for such models the hand-off to a
   * worker costs more than the run (a model whose runs there average over 4 × this goes back to the workers).
   * 0: every model runs in the workers.
   * @default 50
   */
  inThreadRunUs?: number;
  /**
   * Largest batch (rows) that dynamic batching forms from queued requests; 0 disables dynamic batching.
   * @default 256
   */
  maxBatchSize?: number;
  /**
   * How long a queued request may wait for batch-mates, in milliseconds (Triton's max_queue_delay). It only
   * applies while one of the model's runs is in flight: with none, a request is sent at once. While one is,
   * queued requests leave together when the model's last run in flight ends, when they fill `maxBatchSize`,
   * or when the oldest has waited this long.
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
   * Bearer token that every route except the health probes wants (`Authorization: Bearer <token>`): inference,
   * metadata, and `/metrics` when `metricsAccess` is `"token"`. Without one, those routes are open.
   * @default undefined
   * @example { inferenceToken: process.env.BATCH_INFER_INFERENCE_TOKEN }
   */
  inferenceToken?: string;
  /**
   * Who may read `GET /metrics`: anyone (`"open"`, for a Prometheus scraping inside the cluster), only callers
   * with the inference token (`"token"`), or nobody (`"off"`: the route is not served).
   * @default "open"
   */
  metricsAccess?: MetricsAccess;
  /**
   * Origins that browsers may call the server from (CORS), each `scheme://host[:port]`, or `"*"` for any.
   * Empty: cross-origin browser calls are refused, and so is every preflight.
   * @default []
   * @example { corsOrigins: ['https://dashboard.example.com'] }
   */
  corsOrigins?: readonly string[];
  /**
   * Time a client may take to send a request's headers, in milliseconds; a slower client (slowloris) is
   * answered 408 and disconnected. At most `receiveTimeoutMs`.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Time a client may take to send a whole request, headers and body, in milliseconds; after it the
   * connection is answered 408 (when nothing was answered yet) and closed.
   * @default 60000
   */
  receiveTimeoutMs?: number;
  /**
   * How long an idle kept-alive connection stays open, in milliseconds (Node's `keepAliveTimeout`). Behind a
   * load balancer, make it longer than the balancer's own idle timeout.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Largest size of a request's headers, in bytes (Node's `maxHeaderSize`); larger ones are answered 431.
   * @default 16384
   */
  maxHeaderBytes?: number;
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
  readonly inThreadRunUs: number;
  readonly maxBatchSize: number;
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly adminToken: string | undefined;
  readonly inferenceToken: string | undefined;
  readonly metricsAccess: MetricsAccess;
  readonly corsOrigins: readonly string[];
  readonly headersTimeoutMs: number;
  readonly receiveTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
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
  'inThreadRunUs',
  'maxBatchSize',
  'maxQueueDelayMs',
  'maxQueueSize',
  'adminToken',
  'inferenceToken',
  'metricsAccess',
  'corsOrigins',
  'headersTimeoutMs',
  'receiveTimeoutMs',
  'keepAliveTimeoutMs',
  'maxHeaderBytes',
  'vertexHealthRoute',
  'vertexPredictRoute',
  'logger',
] as const;

function invalid(name: string, message: string): never {
  throw new BatchInferError(ErrorCodes.INVALID_OPTION, `Invalid option \`${name}\`: ${message}`, {
    context: { option: name },
  });
}

/**
 * A bearer token: visible ASCII only, so a token read from a file with its trailing newline is refused here
 * rather than never matching any `Authorization` header.
 */
function tokenOption(name: string, value: unknown): string | undefined {
  const token = stringOption(name, value);
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token))
    invalid(
      name,
      'expected visible ASCII characters only (no spaces or line breaks), got a token with others',
    );
  return token;
}

/** `scheme://host[:port]` exactly as a browser sends it in `Origin`, or `*`. */
function corsOriginsOption(value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) invalid('corsOrigins', `expected an array of origins, got ${show(value)}`);
  for (const origin of value as unknown[]) {
    const valid =
      origin === '*' ||
      (typeof origin === 'string' && URL.canParse(origin) && new URL(origin).origin === origin);
    if (!valid)
      invalid('corsOrigins', `expected origins like "https://app.example.com" or "*", got ${show(origin)}`);
  }
  return Object.freeze([...(value as string[])]);
}

function routeOption(name: string, value: unknown, fallback: string): string {
  const route = stringOption(name, value, fallback);
  if (!route.startsWith('/')) invalid(name, `expected a path starting with /, got ${show(route)}`);
  return route;
}

export function normalizeServerOptions(options: ModelServerOptions): ResolvedServerOptions {
  refuseUnknownKeys('createModelServer', options, KNOWN);
  const inferenceToken = tokenOption('inferenceToken', options.inferenceToken);
  const metricsAccess = choiceOption(
    'metricsAccess',
    options.metricsAccess,
    ['open', 'token', 'off'],
    'open',
  );
  if (metricsAccess === 'token' && inferenceToken === undefined)
    invalid('metricsAccess', '"token" needs an `inferenceToken`');
  const receiveTimeoutMs = integerOption('receiveTimeoutMs', options.receiveTimeoutMs, 60_000, 1);
  const headersTimeoutMs = integerOption(
    'headersTimeoutMs',
    options.headersTimeoutMs,
    Math.min(10_000, receiveTimeoutMs),
    1,
    receiveTimeoutMs,
  );
  return Object.freeze({
    models: stringOption('models', options.models, BUNDLED_MODELS_DIR),
    defaultModel: stringOption('defaultModel', options.defaultModel),
    maxBodyBytes: integerOption('maxBodyBytes', options.maxBodyBytes, 64 * 1024 * 1024, 1),
    requestTimeoutMs: integerOption('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1),
    workers: integerOption('workers', options.workers, availableParallelism(), 1, 256),
    intraOpThreads: integerOption('intraOpThreads', options.intraOpThreads, 1, 1, 256),
    inThreadRunUs: integerOption('inThreadRunUs', options.inThreadRunUs, 50, 0, 10_000),
    maxBatchSize: integerOption('maxBatchSize', options.maxBatchSize, 256, 0),
    maxQueueDelayMs: integerOption('maxQueueDelayMs', options.maxQueueDelayMs, 2, 0, 60_000),
    maxQueueSize: integerOption('maxQueueSize', options.maxQueueSize, 1024, 1),
    adminToken: tokenOption('adminToken', options.adminToken),
    inferenceToken,
    metricsAccess,
    corsOrigins: corsOriginsOption(options.corsOrigins),
    headersTimeoutMs,
    receiveTimeoutMs,
    keepAliveTimeoutMs: integerOption('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 5_000, 1),
    maxHeaderBytes: integerOption('maxHeaderBytes', options.maxHeaderBytes, 16 * 1024, 1024, 1024 * 1024),
    vertexHealthRoute: routeOption('vertexHealthRoute', options.vertexHealthRoute, '/health'),
    vertexPredictRoute: routeOption('vertexPredictRoute', options.vertexPredictRoute, '/predict'),
  });
}
