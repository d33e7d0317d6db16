/**
 * The `v2-grpc` protocol: batches sent as the Open Inference Protocol's gRPC ModelInfer (KServe's
 * open_inference_grpc.proto, server/grpc/proto/), every input's bytes in `raw_input_contents` (the binary tensor
 * layout of lib/core/tensor-bytes.ts) and the outputs read from `raw_output_contents` — or, from a server that
 * answers with typed `contents`, from those. One HTTP/2 channel carries every request in flight.
 *
 * Retries and timeouts are the HTTP scorer's (http-scorer.ts): a per-attempt deadline, then exponential backoff
 * with full jitter for the statuses whose HTTP twins are retried (UNAVAILABLE, RESOURCE_EXHAUSTED,
 * DEADLINE_EXCEEDED, INTERNAL, …). INVALID_ARGUMENT is the server refusing the batch's content: it fails with
 * status 400 in its context, which the ModelScorer bisects as it does a 400 over HTTP. Each attempt sends its own
 * W3C `traceparent` metadata.
 *
 * It cannot be an HttpCodec (there is no HTTP request to make), so it is a BatchScorer of its own, and
 * @grpc/grpc-js loads only for a `v2-grpc` run (lib/pipeline-model.ts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { BatchInferError, ErrorCodes, isBatchInferError, show } from '../errors.js';
import type { ModelContract } from '../core/model-contract.js';
import { integerOption, refuseUnknownKeys, requiredOption, stringOption } from '../core/options.js';
import {
  DEFAULT_RETRY_POLICY,
  isBadInputStatus,
  isRetryableStatus,
  retryDelay,
  type RetryPolicy,
} from '../core/retry.js';
import { encodeTensorBytes } from '../core/tensor-bytes.js';
import { rowsOf, type Tensor } from '../core/tensor.js';
import { childSpan, formatTraceparent, newTraceId, traceIdOption, type Span } from '../core/trace-context.js';
import type { AttemptEvent, RetryEvent } from './http-scorer.js';
import { OIP_GRPC_DESCRIPTOR } from './oip-grpc-descriptor.js';
import type { BatchScorer } from './types.js';
import { readV2Outputs } from './v2-outputs.js';
import { CONTENTS_FIELD } from '../core/grpc-contents.js';

export interface GrpcScorerOptions {
  /**
   * The server's gRPC address: `grpc://host:port` (plain text), `grpcs://host:port` (TLS with the system's
   * roots), or `host:port`. Required.
   * @example "grpc://127.0.0.1:8081"
   */
  url: string;
  /** The model's contract: its name, and the inputs the batches carry. Required. */
  contract: ModelContract;
  /**
   * Model version the requests name.
   * @default the server's default version of the model
   */
  version?: number;
  /**
   * Outputs to ask for, in order.
   * @default every output of the contract
   */
  outputs?: readonly string[];
  /**
   * Per-attempt deadline in milliseconds (the call's gRPC deadline).
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt, for the statuses worth another try and deadlines passed.
   * @default 3
   */
  retries?: number;
  /**
   * Backoff of the first retry in milliseconds (full jitter; doubles per retry, at most 10 s).
   * @default 100
   */
  retryBaseDelayMs?: number;
  /**
   * The trace every request belongs to: each attempt is a new span of it, sent as `traceparent` metadata.
   * @default a new random trace id per scorer
   */
  traceId?: string;
  /** Called before each retry, with why and how long it waits. */
  onRetry?: (event: RetryEvent) => void;
  /** Called after each attempt, with how it ended and how long it took. */
  onAttempt?: (event: AttemptEvent) => void;
}

const KNOWN = [
  'url',
  'contract',
  'version',
  'outputs',
  'timeoutMs',
  'retries',
  'retryBaseDelayMs',
  'traceId',
  'onRetry',
  'onAttempt',
] as const;

/** The HTTP status each gRPC status stands for, so that retries and refusals follow one policy (core/retry.ts). */
const HTTP_TWIN: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.FAILED_PRECONDITION]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

/** An address as grpc-js takes it (`host:port`), and whether it wants TLS. */
export function parseGrpcUrl(url: string): { target: string; tls: boolean } {
  const match = /^(?:(grpcs?):\/\/)?([^/\s]+?)\/?$/.exec(url);
  const target = match?.[2];
  if (match === null || target === undefined || !/:\d+$/.test(target))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`url\`: expected grpc://host:port, grpcs://host:port or host:port, got ${show(url)}`,
      { context: { option: 'url' } },
    );
  return { target, tls: match[1] === 'grpcs' };
}

interface InferResponse {
  outputs?: {
    name: string;
    datatype: string;
    shape: number[];
    contents?: Record<string, unknown[]> | null;
  }[];
  raw_output_contents?: Buffer[];
}

/**
 * A ModelInferResponse's outputs as tensors, through the same reader as the REST answers (v2-outputs.ts): raw
 * contents are binary tensor data, typed contents JSON-like values.
 */
function decodeResponse(response: InferResponse, outputs: readonly string[], rows: number): Tensor[] {
  const tensors = response.outputs ?? [];
  const raw = response.raw_output_contents ?? [];
  if (raw.length > 0) {
    const header = {
      outputs: tensors.map((o, i) => ({
        name: o.name,
        datatype: o.datatype,
        shape: o.shape,
        parameters: { binary_data_size: raw[i]?.length ?? 0 },
      })),
    };
    return readV2Outputs(header, Buffer.concat(raw), outputs, rows);
  }
  const header = {
    outputs: tensors.map((o) => {
      const values = o.contents?.[CONTENTS_FIELD[o.datatype] ?? ''] ?? [];
      const data = o.datatype === 'BYTES' ? values.map((b) => (b as Buffer).toString('utf8')) : values;
      return { name: o.name, datatype: o.datatype, shape: o.shape, data };
    }),
  };
  return readV2Outputs(header, Buffer.alloc(0), outputs, rows);
}

/** One attempt's failure: the error to throw if no retry follows, and whether a retry may. */
interface Failure {
  error: BatchInferError;
  retryable: boolean;
  timedOut: boolean;
  badInput: boolean;
}

const traceNote = (span: Span): string => ` [trace_id=${span.traceId} span_id=${span.spanId}]`;

type InferMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, response?: InferResponse) => void,
) => { cancel(): void };

export function createGrpcScorer(options: GrpcScorerOptions): BatchScorer {
  refuseUnknownKeys('createGrpcScorer', options, KNOWN);
  const { target, tls } = parseGrpcUrl(requiredOption('url', stringOption('url', options.url)));
  const contract = requiredOption('contract', options.contract);
  const outputs = options.outputs ?? contract.outputs.map((o) => o.name);
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 30_000, 1);
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    retries: integerOption('retries', options.retries, DEFAULT_RETRY_POLICY.retries, 0, 100),
    baseDelayMs: integerOption(
      'retryBaseDelayMs',
      options.retryBaseDelayMs,
      DEFAULT_RETRY_POLICY.baseDelayMs,
      0,
    ),
  };
  const traceId = traceIdOption('traceId', options.traceId) ?? newTraceId();
  const { onRetry, onAttempt } = options;
  const modelVersion = options.version === undefined ? '' : String(options.version);
  const requested = outputs.map((name) => ({ name }));

  const loaded = loadPackageDefinition(
    fromJSON(OIP_GRPC_DESCRIPTOR, {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  const Service = (loaded.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  const client: Client = new Service(target, tls ? credentials.createSsl() : credentials.createInsecure(), {
    // Batches and their answers are as large as they come (the server bounds requests itself).
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  const modelInfer = (client as unknown as { ModelInfer: InferMethod }).ModelInfer.bind(client);

  function attempt(
    span: Span,
    inputs: Tensor[],
    signal: AbortSignal | undefined,
  ): Promise<Tensor[] | Failure> {
    const request = {
      model_name: contract.name,
      model_version: modelVersion,
      inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      outputs: requested,
      raw_input_contents: inputs.map(encodeTensorBytes),
    };
    const metadata = new Metadata();
    metadata.set(
      'traceparent',
      formatTraceparent({ traceId: span.traceId, parentId: span.spanId, flags: span.flags }),
    );
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const call = modelInfer(request, metadata, { deadline }, (error, response) => {
        signal?.removeEventListener('abort', abort);
        if (signal?.aborted === true) {
          // The caller's own reason, as an aborted HTTP request rejects with.
          reject(signal.reason as Error);
          return;
        }
        if (error === null) {
          try {
            resolve(decodeResponse(response ?? {}, outputs, rowsOf(inputs)));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
          return;
        }
        const httpStatus = HTTP_TWIN[error.code] ?? 500;
        // The call's own deadline (the server's DEADLINE_EXCEEDED comes with its queue's message).
        const timedOut = error.code === status.DEADLINE_EXCEEDED && Date.now() >= deadline;
        const what = timedOut
          ? `no answer within ${timeoutMs} ms`
          : `${status[error.code]}: ${error.details || error.message}`;
        resolve({
          error: new BatchInferError(
            ErrorCodes.HTTP_STATUS,
            timedOut ? `Model server request failed: ${what}` : `Model server answered ${what}`,
            { context: { status: httpStatus } },
          ),
          retryable: timedOut || isRetryableStatus(httpStatus),
          timedOut,
          badInput: isBadInputStatus(httpStatus),
        });
      });
      const abort = (): void => call.cancel();
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  async function timedAttempt(
    span: Span,
    inputs: Tensor[],
    signal: AbortSignal | undefined,
  ): Promise<Tensor[] | Failure> {
    const started = performance.now();
    const settle = (outcome: AttemptEvent['outcome']): void =>
      onAttempt?.({
        outcome,
        durationMs: performance.now() - started,
        traceId: span.traceId,
        spanId: span.spanId,
      });
    try {
      const result = await attempt(span, inputs, signal);
      settle(Array.isArray(result) ? 'success' : result.timedOut ? 'timeout' : 'error');
      return result;
    } catch (err) {
      settle('error');
      throw err;
    }
  }

  return {
    async score(inputs, signal) {
      signal?.throwIfAborted();
      for (let n = 0; ; n++) {
        const span = childSpan(traceId);
        const result = await timedAttempt(span, inputs, signal).catch((err: unknown) => {
          if (isBatchInferError(err) && signal?.aborted !== true) err.message += traceNote(span);
          throw err;
        });
        if (Array.isArray(result)) return result;
        if (!result.retryable || n >= policy.retries) {
          if (n > 0) result.error.message += ` (after ${n + 1} attempts)`;
          if (!result.badInput) result.error.message += traceNote(span);
          throw result.error;
        }
        const delayMs = retryDelay(n + 1, policy, undefined);
        onRetry?.({
          attempt: n + 1,
          delayMs,
          reason: result.error.message,
          traceId: span.traceId,
          spanId: span.spanId,
        });
        await sleep(delayMs, undefined, signal ? { signal } : {});
      }
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}
