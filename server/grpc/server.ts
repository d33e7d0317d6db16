/**
 * The Open Inference Protocol over gRPC (issue #18): Triton's `inference.GRPCInferenceService`
 * (proto/grpc_service.proto, a superset of the protocol's own service with Triton's model configuration,
 * statistics and repository RPCs) and the standard `grpc.health.v1.Health`, on @grpc/grpc-js. It answers from
 * the same repository, worker pool, dynamic batching, statistics and metrics as the REST routes, with the same
 * checks (infer.ts), deadlines and tokens:
 *
 * - a call's deadline is the sooner of its gRPC deadline and `requestTimeoutMs`; the engine drops the request if
 *   it is still queued then, and the call is answered DEADLINE_EXCEEDED;
 * - `authorization: Bearer <token>` metadata: the inference token for every RPC but the health probes
 *   (ServerLive, ServerReady, Health/Check), the admin token for the repository RPCs;
 * - each call is timed into `rpc_server_duration_seconds` (OpenTelemetry's `rpc.server.duration`) with its
 *   method and status code; inference counts into the model metrics as over REST.
 *
 * Not implemented (UNIMPLEMENTED): ModelStreamInfer, the shared-memory, trace and log settings RPCs.
 * The module, and @grpc/grpc-js with it, loads only when a server asks for gRPC (index.ts).
 */
import { performance } from 'node:perf_hooks';
import {
  Metadata,
  Server,
  ServerCredentials,
  loadPackageDefinition,
  status,
  type GrpcObject,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  type ServerErrorResponse,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { Histogram } from 'prom-client';
import type { Logger } from 'pino';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import type { ModelConfig } from '../../lib/model-files.js';
import { serverSpan, traceFields } from '../../lib/core/trace-context.js';
import type { ServerContext } from '../context.js';
import { bearerCheck } from '../http/bearer.js';
import { HttpError } from '../http/http-error.js';
import { lazyChildLogger, newRequestId } from '../http/lifecycle.js';
import { modelConfig, servedPolicy } from '../v2/config.js';
import { parseConfigText } from '../v2/repository-routes.js';
import { EXTENSIONS } from '../v2/routes.js';
import { modelStatistics } from '../v2/statistics.js';
import { TRITON_GRPC_DESCRIPTOR } from './descriptor.js';
import {
  grpcInferResponse,
  parseGrpcInferRequest,
  type ModelInferRequest,
  type ModelInferResponse,
} from './infer.js';
import { grpcFailure } from './status.js';

/** The gRPC service of a model server: listen, then close (which drains) when done. */
export interface GrpcServer {
  /** Binds `host:port` (port 0: a free one) and serves; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /**
   * Stops taking calls (new ones are refused UNAVAILABLE, connections are told to go away), lets the calls in
   * flight finish for up to `graceMs` (default 10 s), then closes every connection. The models stay loaded:
   * the model server's `close()` releases them.
   */
  close(graceMs?: number): Promise<void>;
  /** Refuses new calls from now on, and resolves once the calls in flight are done or `graceMs` has passed. */
  drain(graceMs: number): Promise<void>;
}

export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** Who may call an RPC: anyone (health probes), holders of the inference token, or of the admin token. */
type Access = 'open' | 'inference' | 'admin';

/** What a handler gets besides the request. */
interface Call {
  /** Epoch ms: the sooner of the call's gRPC deadline and the server's request timeout. */
  deadline: number;
  log: Logger;
}

type Handler = (request: never, call: Call) => unknown;

/** How @grpc/proto-loader decodes and encodes: field names as in the .proto, 64-bit integers as numbers. */
const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

function services(): { inference: ServiceClientConstructor; health: ServiceClientConstructor } {
  const loaded = loadPackageDefinition(fromJSON(TRITON_GRPC_DESCRIPTOR, LOADER_OPTIONS));
  const inference = loaded.inference as GrpcObject;
  const health = ((loaded.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
  return {
    inference: inference.GRPCInferenceService as ServiceClientConstructor,
    health: health.Health as ServiceClientConstructor,
  };
}

/** The `rpc_server_duration_seconds` histogram of a registry, made on first use. */
function durationHistogram(context: ServerContext) {
  const name = 'rpc_server_duration_seconds';
  const existing = context.metrics.registry.getSingleMetric(name);
  if (existing !== undefined)
    return existing as Histogram<'rpc_system' | 'rpc_service' | 'rpc_method' | 'rpc_grpc_status_code'>;
  return new Histogram({
    name,
    help: 'Duration of gRPC calls handled by the model server, by method and status code.',
    labelNames: ['rpc_system', 'rpc_service', 'rpc_method', 'rpc_grpc_status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    registers: [context.metrics.registry],
  });
}

/** The first value of a metadata key, as text. */
function metadataText(metadata: Metadata, key: string): string {
  const [value] = metadata.get(key);
  return typeof value === 'string' ? value : '';
}

/** A request's version string: empty for none, which is the model's default version. */
const versionOf = (version: string): string | undefined => (version === '' ? undefined : version);

/** The config override of a RepositoryModelLoad request, checked as the REST load checks it. */
function configOverride(parameters: Record<string, { parameter_choice?: string; string_param?: string }>) {
  const unknown = Object.keys(parameters).filter((k) => k !== 'config');
  if (unknown.length > 0)
    throw new HttpError(
      400,
      `Unsupported load parameter ${JSON.stringify(unknown[0])}: only \`config\` (a model config override) is`,
    );
  const config = parameters.config;
  if (config === undefined) return undefined;
  if (config.parameter_choice !== 'string_param' || config.string_param === undefined)
    throw new HttpError(400, '`parameters.config` must be a string_param holding the model config as JSON');
  return parseConfigText(config.string_param);
}

function refuseRepositoryName(name: string): void {
  if (name !== '')
    throw new HttpError(400, `Unknown repository ${JSON.stringify(name)}: this server has one, named ""`);
}

/** The handlers of GRPCInferenceService, by RPC, with who may call each. */
function inferenceHandlers(context: ServerContext): Record<string, [Access, Handler]> {
  const { repository, metrics, options, logger } = context;
  const handlers = {
    ServerLive: ['open', () => ({ live: true })],
    ServerReady: ['open', () => ({ ready: context.isReady() })],
    // As Triton's gRPC endpoint (and unlike REST's 404): a model or version that is not served is not ready,
    // so a client polling until a model loads does not get an error.
    ModelReady: [
      'inference',
      (request: { name: string; version: string }) => {
        try {
          repository.get(request.name, versionOf(request.version));
          return { ready: true };
        } catch (err) {
          if (isBatchInferError(err, ErrorCodes.MODEL_NOT_FOUND)) return { ready: false };
          throw err;
        }
      },
    ],
    ServerMetadata: [
      'inference',
      () => ({ name: 'batch-infer', version: context.version, extensions: EXTENSIONS }),
    ],
    ModelMetadata: [
      'inference',
      (request: { name: string; version: string }) => {
        const model = repository.get(request.name, versionOf(request.version));
        const tensor = ({ name, datatype, shape }: { name: string; datatype: string; shape: number[] }) => ({
          name,
          datatype,
          shape,
        });
        // `properties` as in the REST answer (v2/routes.ts): the Open Inference Protocol's field, which Triton's
        // proto lacks (scripts/grpc-descriptors.ts adds it); Triton's clients skip it as an unknown field.
        return {
          name: model.name,
          versions: repository.versions(model.name).map(String),
          platform: model.contract.platform,
          inputs: model.contract.inputs.map(tensor),
          outputs: model.contract.outputs.map(tensor),
          properties: {
            version: String(model.version),
            labels: JSON.stringify(model.contract.labels),
            contract: JSON.stringify(model.contract),
          },
        };
      },
    ],
    ModelInfer: [
      'inference',
      async (request: ModelInferRequest, call: Call): Promise<ModelInferResponse> => {
        const arrived = performance.now();
        const model = repository.get(request.model_name, versionOf(request.model_version));
        const labels = { model_name: model.name, model_version: String(model.version) };
        let parsed;
        try {
          parsed = parseGrpcInferRequest(request, model.contract);
        } catch (err) {
          metrics.predictionErrors.inc({ ...labels, reason: 'validation' });
          metrics.statistics.of(model.name, model.version).failed(performance.now() - arrived);
          throw err;
        }
        let outputs;
        try {
          outputs = await model.engine.infer(parsed.inputs, parsed.outputNames, { deadline: call.deadline });
        } catch (err) {
          if (isBatchInferError(err, ErrorCodes.INFERENCE))
            metrics.predictionErrors.inc({ ...labels, reason: 'inference' });
          throw err;
        }
        metrics.predictions.inc(labels, parsed.inputs[0]?.shape[0] ?? 0);
        return grpcInferResponse(model, parsed, outputs);
      },
    ],
    ModelConfig: [
      'inference',
      async (request: { name: string; version: string }) => {
        const model = repository.get(request.name, versionOf(request.version));
        return { config: modelConfig(model, options, await servedPolicy(repository, model.name)) };
      },
    ],
    ModelStatistics: [
      'inference',
      (request: { name: string; version: string }) =>
        request.name === ''
          ? modelStatistics(repository, metrics.statistics)
          : modelStatistics(repository, metrics.statistics, request.name, versionOf(request.version)),
    ],
    RepositoryIndex: [
      'admin',
      async (request: { repository_name: string; ready: boolean }) => {
        refuseRepositoryName(request.repository_name);
        const entries = await repository.index(request.ready);
        return {
          models: entries.map(({ name, version, state, reason }) => ({ name, version, state, reason })),
        };
      },
    ],
    RepositoryModelLoad: [
      'admin',
      async (request: { repository_name: string; model_name: string; parameters: Record<string, never> }) => {
        refuseRepositoryName(request.repository_name);
        const name = request.model_name;
        const override: ModelConfig | undefined = configOverride(request.parameters);
        try {
          await repository.load(name, override);
        } catch (err) {
          if (isBatchInferError(err, ErrorCodes.MODEL_CONTRACT))
            throw new HttpError(400, `Failed to load model "${name}": ${err.message}`);
          throw err;
        }
        logger.info(
          {
            model: name,
            versions: repository.versions(name),
            default_version: repository.defaultVersion(name),
            ...(override === undefined ? {} : { config: override }),
          },
          'model loaded',
        );
        return {};
      },
    ],
    RepositoryModelUnload: [
      'admin',
      async (request: { repository_name: string; model_name: string }) => {
        refuseRepositoryName(request.repository_name);
        await repository.unload(request.model_name);
        logger.info({ model: request.model_name }, 'model unloaded');
        return {};
      },
    ],
  } satisfies Record<string, [Access, (request: never, call: Call) => unknown]>;
  return handlers;
}

/**
 * grpc.health.v1: the whole server (service "" or the inference service's name, and "ready") is SERVING when
 * ready, as `ServerReady` says; "live" is SERVING while the process answers, for a Kubernetes gRPC liveness
 * probe (`grpc: {port: 8081, service: live}`).
 */
function healthHandlers(context: ServerContext): Record<string, [Access, Handler]> {
  return {
    Check: [
      'open',
      (request: { service: string }) => {
        if (request.service === 'live') return { status: 'SERVING' };
        if (['', 'ready', INFERENCE_SERVICE].includes(request.service))
          return { status: context.isReady() ? 'SERVING' : 'NOT_SERVING' };
        throw new HttpError(404, `Unknown service ${JSON.stringify(request.service)}`);
      },
    ],
  };
}

export function createGrpcServer(context: ServerContext): GrpcServer {
  const { options, logger } = context;
  const duration = durationHistogram(context);
  const inferenceCheck =
    options.inferenceToken === undefined ? undefined : bearerCheck(options.inferenceToken);
  const adminCheck = options.adminToken === undefined ? undefined : bearerCheck(options.adminToken);
  let inflight = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  function authorize(access: Access, metadata: Metadata): void {
    if (access === 'open') return;
    const authorization = metadataText(metadata, 'authorization');
    if (access === 'admin') {
      if (adminCheck === undefined)
        throw new HttpError(
          403,
          'The model repository API is disabled: no admin token is configured (option adminToken, `batch-infer serve --admin-token`)',
        );
      if (!adminCheck(authorization))
        throw new HttpError(401, 'A valid `authorization: Bearer <admin token>` metadata entry is required');
      return;
    }
    if (inferenceCheck !== undefined && !inferenceCheck(authorization))
      throw new HttpError(
        401,
        'A valid `authorization: Bearer <inference token>` metadata entry is required',
      );
  }

  /** Runs a handler within the call's deadline; rejects with BI_ERR_TIMEOUT once it has passed. */
  async function withinDeadline(work: () => unknown, deadline: number, timeoutMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.resolve().then(work);
    // The race settles the call at the deadline; the work's own late failure must not go unhandled.
    settled.catch(() => undefined);
    try {
      return await Promise.race([
        settled,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new BatchInferError(ErrorCodes.TIMEOUT, `Request timed out after ${timeoutMs} ms`)),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  function unary(service: string, method: string, access: Access, handler: Handler) {
    const path = `/${service}/${method}`;
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
      const started = performance.now();
      const given = metadataText(call.metadata, 'x-request-id');
      const requestId = /^[\w.:-]{1,128}$/.test(given) ? given : newRequestId();
      const trace = serverSpan(metadataText(call.metadata, 'traceparent') || undefined);
      const log = lazyChildLogger(logger, () => ({ request_id: requestId, ...traceFields(trace) }));
      const echo = new Metadata();
      echo.set('x-request-id', requestId);
      call.sendMetadata(echo);
      const answer = (error: ServerErrorResponse | null, value?: unknown): void => {
        const code = error?.code ?? status.OK;
        duration.observe(
          {
            rpc_system: 'grpc',
            rpc_service: service,
            rpc_method: method,
            rpc_grpc_status_code: String(code),
          },
          (performance.now() - started) / 1000,
        );
        const line = { method: 'gRPC', path, status: code };
        if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) log.warn(line, 'request');
        else log.debug(line, 'request');
        callback(error, value);
      };
      const fail = (err: unknown): void => {
        const failure = grpcFailure(err);
        if (!failure.deliberate) log.error({ err, method: 'gRPC', path }, 'request failed');
        answer(Object.assign(new Error(failure.details), { code: failure.code, details: failure.details }));
      };
      const health = access === 'open';
      if (!health && (closing || context.isClosing())) {
        fail(new BatchInferError(ErrorCodes.OVERLOADED, 'Server is shutting down'));
        return;
      }
      try {
        authorize(access, call.metadata);
      } catch (err) {
        fail(err);
        return;
      }
      const grpcDeadline = call.getDeadline();
      const clientDeadline = grpcDeadline instanceof Date ? grpcDeadline.getTime() : grpcDeadline;
      const deadline = Math.min(Date.now() + options.requestTimeoutMs, clientDeadline);
      inflight++;
      withinDeadline(
        () => handler(call.request as never, { deadline, log }),
        deadline,
        options.requestTimeoutMs,
      )
        .then((value) => answer(null, value), fail)
        .finally(() => {
          inflight--;
          if (inflight === 0) drained?.();
        });
    };
  }

  function implementation(service: string, handlers: Record<string, [Access, Handler]>) {
    const impl: UntypedServiceImplementation = {};
    for (const [method, [access, handler]] of Object.entries(handlers))
      impl[method] = unary(service, method, access, handler);
    return impl;
  }

  const { inference, health } = services();
  const server = new Server({
    // Requests as large as the REST body limit; answers as large as they come (Triton's client takes 2 GiB).
    'grpc.max_receive_message_length': options.maxBodyBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(inference.service, implementation(INFERENCE_SERVICE, inferenceHandlers(context)));
  server.addService(health.service, implementation(HEALTH_SERVICE, healthHandlers(context)));

  async function drain(graceMs: number): Promise<void> {
    closing = true;
    if (inflight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (drained = resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
          if (err === null) resolve(bound);
          else reject(err);
        });
      }),
    async close(graceMs = 10_000) {
      const shutdown = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await drain(graceMs);
      // Calls still running after the grace period, and idle connections, are cut.
      server.forceShutdown();
      await shutdown;
    },
    drain,
  };
}
