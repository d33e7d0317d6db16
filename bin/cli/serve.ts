/** `batch-infer serve`: the model server, until SIGTERM or SIGINT, which drain in-flight requests. */
import type { GrpcServer, ModelServerOptions } from '../../server/index.js';
import { EXIT_OK } from './exit-codes.js';
import { duration, int, list, str, type Command } from './command.js';
import { listen, type Listening } from './listen.js';
import { formatServeBanner, type ServedModelInfo } from './serve-banner.js';
import { stylesFor } from './terminal.js';

/**
 * The versions each model serves, asked of the server itself (its model metadata, as a client would), so
 * the banner shows what is served, not what the repository directory holds.
 */
async function servedModels(
  url: string,
  names: string[],
  token: string | undefined,
): Promise<ServedModelInfo[]> {
  // A server listening on every address is asked on the loopback one.
  const base = url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return Promise.all(
    names.map(async (name): Promise<ServedModelInfo> => {
      try {
        const response = await fetch(`${base}/v2/models/${encodeURIComponent(name)}`, { headers });
        const meta = (await response.json()) as { versions?: unknown; properties?: { version?: unknown } };
        const versions = Array.isArray(meta.versions) ? meta.versions.map(String) : [];
        const answering = meta.properties?.version;
        return { name, versions, ...(typeof answering === 'string' ? { defaultVersion: answering } : {}) };
      } catch {
        return { name, versions: [] };
      }
    }),
  );
}

export const serveCommand: Command = {
  name: 'serve',
  summary:
    'Serve a model repository over the Open Inference Protocol V2 (KServe / Triton REST and gRPC), with the SageMaker and Vertex AI container contracts.',
  options: {
    models: {
      type: 'string',
      value: '<dir>',
      description: 'Model repository: <dir>/<model>/<version>/model.onnx (+ an optional model.json).',
      default: 'the bundled models',
    },
    port: {
      type: 'string',
      short: 'p',
      value: '<n>',
      description: 'Port to listen on.',
      default: '8080',
      env: ['PORT', 'AIP_HTTP_PORT', 'SAGEMAKER_BIND_TO_PORT'],
    },
    'grpc-port': {
      type: 'string',
      value: '<n>',
      description:
        'Port of the Open Inference Protocol gRPC service (inference.GRPCInferenceService, as Triton); 0 turns it off.',
      default: '8081; a free port when --port is 0',
    },
    host: { type: 'string', value: '<address>', description: 'Address to listen on.', default: '0.0.0.0' },
    'default-model': {
      type: 'string',
      value: '<name>',
      description: 'Model behind /invocations and the Vertex AI predict route.',
      default: 'the only model, else the first by name',
    },
    workers: {
      type: 'string',
      value: '<n>',
      description: 'Inference worker threads.',
      default: 'the number of cores',
      env: ['SAGEMAKER_MODEL_SERVER_WORKERS'],
    },
    'intra-op-threads': {
      type: 'string',
      value: '<n>',
      description: 'onnxruntime threads per worker.',
      default: '1',
    },
    'max-batch-size': {
      type: 'string',
      value: '<rows>',
      description: 'Largest dynamic batch; 0 turns dynamic batching off.',
      default: '256',
    },
    'max-queue-delay': {
      type: 'string',
      value: '<duration>',
      description:
        "How long a request may wait for batch-mates while one of its model's runs is in flight (a request to an idle model is sent at once).",
      default: '2ms',
    },
    'max-queue-size': {
      type: 'string',
      value: '<n>',
      description: 'Queued requests per model; beyond it 503 + Retry-After.',
      default: '1024',
    },
    'request-timeout': {
      type: 'string',
      value: '<duration>',
      description: 'Deadline per request (504 after it).',
      default: '30s',
    },
    'max-body-size': {
      type: 'string',
      value: '<bytes>',
      description: 'Largest request body (413 above).',
      default: '67108864',
    },
    'admin-token': {
      type: 'string',
      value: '<token>',
      description: 'Bearer token for the model repository endpoints; without one they are refused.',
    },
    'inference-token': {
      type: 'string',
      value: '<token>',
      description:
        'Bearer token every route but the health probes wants (inference, metadata); prefer the env variable, which `ps` does not show.',
      default: 'none: those routes are open',
    },
    'metrics-access': {
      type: 'string',
      value: 'open|token|off',
      description: 'Who may read /metrics: anyone, callers with the inference token, or nobody.',
      default: 'open',
    },
    'cors-origin': {
      type: 'string',
      multiple: true,
      value: '<origin>',
      description: 'Origin browsers may call from (https://app.example.com, or * for any); repeatable.',
      default: 'none: CORS off',
    },
    'headers-timeout': {
      type: 'string',
      value: '<duration>',
      description: 'Time a client may take to send request headers (408 and disconnect after it).',
      default: '10s',
    },
    'receive-timeout': {
      type: 'string',
      value: '<duration>',
      description: 'Time a client may take to send a whole request, headers and body.',
      default: '60s',
    },
    'keep-alive-timeout': {
      type: 'string',
      value: '<duration>',
      description: 'How long an idle kept-alive connection stays open.',
      default: '5s',
    },
    'max-header-size': {
      type: 'string',
      value: '<bytes>',
      description: 'Largest request headers (431 above).',
      default: '16384',
    },
    'vertex-health-route': {
      type: 'string',
      value: '<path>',
      description: 'Vertex AI health route.',
      default: '/health',
      env: ['AIP_HEALTH_ROUTE'],
    },
    'vertex-predict-route': {
      type: 'string',
      value: '<path>',
      description: 'Vertex AI predict route.',
      default: '/predict',
      env: ['AIP_PREDICT_ROUTE'],
    },
    'shutdown-grace': {
      type: 'string',
      value: '<duration>',
      description: 'On SIGTERM, how long in-flight requests may take to finish.',
      default: '10s',
    },
  },
  examples: [
    'batch-infer serve',
    'batch-infer serve --models ./models --port 9000 --host 127.0.0.1',
    'batch-infer serve --grpc-port 0   # REST only',
    'AIP_HTTP_PORT=8080 AIP_PREDICT_ROUTE=/v1/predict batch-infer serve',
    'BATCH_INFER_INFERENCE_TOKEN=s3cret batch-infer serve --cors-origin https://app.example.com',
  ],
  async run(values, io) {
    const chosen: Record<string, unknown> = {
      models: str(values, 'models'),
      defaultModel: str(values, 'default-model'),
      workers: int(values, 'workers', 1),
      intraOpThreads: int(values, 'intra-op-threads', 1),
      maxBatchSize: int(values, 'max-batch-size', 0),
      maxQueueDelayMs: duration(values, 'max-queue-delay'),
      maxQueueSize: int(values, 'max-queue-size', 1),
      requestTimeoutMs: duration(values, 'request-timeout'),
      maxBodyBytes: int(values, 'max-body-size', 1),
      adminToken: str(values, 'admin-token'),
      inferenceToken: str(values, 'inference-token'),
      metricsAccess: str(values, 'metrics-access'),
      corsOrigins: values['cors-origin'] === undefined ? undefined : list(values, 'cors-origin'),
      headersTimeoutMs: duration(values, 'headers-timeout'),
      receiveTimeoutMs: duration(values, 'receive-timeout'),
      keepAliveTimeoutMs: duration(values, 'keep-alive-timeout'),
      maxHeaderBytes: int(values, 'max-header-size', 1024),
      vertexHealthRoute: str(values, 'vertex-health-route'),
      vertexPredictRoute: str(values, 'vertex-predict-route'),
    };
    const options = Object.fromEntries(
      Object.entries(chosen).filter(([, v]) => v !== undefined),
    ) as ModelServerOptions;
    const grace = duration(values, 'shutdown-grace') ?? 10_000;
    // The server's modules (Koa, the worker pool, prom-client) load only for the commands that serve: a
    // `run` process does not carry them (~5 MiB of its peak RSS).
    const { createModelServer } = await import('../../server/index.js');
    const modelServer = createModelServer({ ...options, logger: io.logger });
    const port = int(values, 'port', 0) ?? 8080;
    const host = str(values, 'host') ?? '0.0.0.0';
    // An HTTP port of 0 (a free one, as tests and benchmarks ask) makes the default gRPC port a free one too, so
    // that several such servers never contend for 8081.
    const grpcPort = int(values, 'grpc-port', 0) ?? (port === 0 ? undefined : 8081);
    let grpc: GrpcServer | undefined;
    let grpcAddress: string | undefined;
    let listening: Listening;
    try {
      if (grpcPort !== 0) {
        grpc = await modelServer.createGrpcServer();
        const bound = await grpc.listen(grpcPort ?? 0, host).catch((err: unknown) => {
          throw new Error(
            `Cannot serve gRPC on ${host}:${grpcPort ?? 0} (${(err as Error).message}); is the port taken? --grpc-port 0 turns gRPC off`,
            { cause: err },
          );
        });
        grpcAddress = `${host.includes(':') ? `[${host}]` : host}:${bound}`;
        // On a terminal the banner below says it.
        if (io.pretty !== true) io.logger.info({ grpc: grpcAddress }, `gRPC listening on ${grpcAddress}`);
      }
      listening = await listen(modelServer, port, host);
    } catch (err) {
      await grpc?.close(0);
      await modelServer.close({ graceMs: 0 });
      throw err;
    }
    const stopped = new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (io.pretty === true && io.logger.isLevelEnabled('info')) {
      // For people: once the models are loaded, what is served where, in a few lines.
      await Promise.race([modelServer.loaded, stopped]);
      const models = modelServer.models().sort();
      const defaultModel = str(values, 'default-model') ?? models[0];
      const banner = formatServeBanner(
        {
          url: listening.url,
          ...(grpcAddress === undefined ? {} : { grpc: grpcAddress }),
          models: await servedModels(listening.url, models, str(values, 'inference-token')),
          defaultModel,
          routes: modelServer.routes(),
          inferenceToken: str(values, 'inference-token') !== undefined,
          adminToken: str(values, 'admin-token') !== undefined,
          graceMs: grace,
        },
        stylesFor(io.stderr, io.env),
      );
      if (!io.signal.aborted) io.stderr.write(banner);
    } else {
      io.logger.info({ url: listening.url }, `listening on ${listening.url}`);
    }
    await stopped;
    io.logger.info({ grace_ms: grace }, 'shutting down: draining in-flight requests');
    await Promise.all([grpc?.close(grace), listening.close(grace)]);
    io.logger.info('stopped');
    return EXIT_OK;
  },
};
