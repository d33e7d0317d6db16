/**
 * `createModelServer` — a Koa app serving a model repository over the Open Inference Protocol V2.
 * The factory builds the app and starts loading models; listening and signal handling are the caller's
 * (the CLI's `serve`, or a test's server on port 0).
 */
import type { Server } from 'node:http';
import Koa from 'koa';
import { pino } from 'pino';
import { VERSION } from '../lib/version.js';
import type { ServerContext } from './context.js';
import { errorMiddleware } from './http/error-middleware.js';
import { HttpError } from './http/http-error.js';
import { createServerMetrics } from './metrics.js';
import { normalizeServerOptions, type ModelServerOptions } from './options.js';
import { ServingRepository } from './serving-repository.js';
import { v2Router } from './v2/routes.js';
import { repositoryRouter } from './v2/repository-routes.js';
import { sagemakerRouter } from './sagemaker/routes.js';
import { vertexRouter } from './vertex/routes.js';
import { metricsEndpoint, metricsMiddleware } from './http/metrics-middleware.js';
import { Lifecycle } from './http/lifecycle.js';
import { accessMiddleware } from './http/access.js';
import { corsMiddleware } from './http/cors.js';
import { createHttpServer } from './http/http-server.js';
import { fastInferHandler } from './http/fast-infer.js';
import { modelPathMiddleware } from './http/model-path.js';
import { redactPathsMiddleware } from './http/redact.js';
import { compressionMiddleware } from './http/compression.js';
import type { GrpcServer } from './grpc/server.js';

export type { MetricsAccess, ModelServerOptions } from './options.js';
export type { GrpcServer } from './grpc/server.js';

export interface ModelServer {
  /** The Koa application; `createHttpServer()` serves it with the server's connection limits. */
  readonly app: Koa;
  /** Resolves once the repository has been loaded (models that failed are logged and skipped). */
  readonly loaded: Promise<void>;
  /** Names of the models being served. */
  models(): string[];
  /** Every route the app answers, as `{ method, path }` with Koa path templates (docs/openapi.yaml lists them). */
  routes(): { method: string; path: string }[];
  /**
   * A `node:http` server (not yet listening) for the app, with the options' header, receive and keep-alive
   * limits, answering malformed or too-slow requests with a JSON error body.
   * @example createModelServer().createHttpServer().listen(8080)
   */
  createHttpServer(): Server;
  /**
   * The Open Inference Protocol's gRPC service (not yet listening) over the same models: Triton's
   * `inference.GRPCInferenceService` — with its model configuration, statistics and repository RPCs — and
   * `grpc.health.v1.Health`, sharing the repository, worker pool, dynamic batching, metrics, deadlines and tokens
   * with the REST routes (docs/server-protocols.md). @grpc/grpc-js loads on the first call only.
   * @example (await createModelServer().createGrpcServer()).listen(8081, '0.0.0.0')
   */
  createGrpcServer(): Promise<GrpcServer>;
  /**
   * Graceful stop: readiness turns false and new requests get 503 at once; requests in flight finish (for up
   * to `graceMs`, default 10 s), over HTTP and gRPC alike; then every model session is released. Stop accepting
   * connections first (`server.close()`, the gRPC server's `close()`), as `batch-infer serve` does.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export function createModelServer(options: ModelServerOptions = {}): ModelServer {
  const resolved = normalizeServerOptions(options);
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = createServerMetrics();
  const repository = new ServingRepository(resolved, { metrics, logger });
  const lifecycle = new Lifecycle();
  let loadedAll = false;
  const grpcServers: GrpcServer[] = [];
  const context: ServerContext = {
    version: VERSION,
    repository,
    metrics,
    options: resolved,
    logger,
    // Not while the repository loads or once shutdown begins; with no model served; or while a model meant to
    // be served is not (its load failed; a model unloaded on purpose is no longer meant to be).
    isReady: () => loadedAll && !lifecycle.closing && repository.size > 0 && repository.servesAllWanted(),
    isClosing: () => lifecycle.closing,
  };

  const app = new Koa();
  const admin = repositoryRouter(context);
  const routers = [v2Router(context), admin, sagemakerRouter(context), vertexRouter(context)];
  // Metrics outermost, so a request's duration is recorded with the status the error middleware chose.
  app.use(metricsMiddleware(metrics));
  // Outside everything that sets a body, so it compresses the final one, error bodies included.
  app.use(compressionMiddleware());
  app.use(redactPathsMiddleware(resolved.models));
  app.use(errorMiddleware(logger));
  // CORS before the token check: a browser's preflight never carries the token.
  app.use(corsMiddleware(resolved.corsOrigins));
  app.use(lifecycle.middleware(logger, resolved.requestTimeoutMs));
  app.use(accessMiddleware(resolved, (ctx) => admin.match(ctx.path, ctx.method).route));
  app.use(modelPathMiddleware());
  if (resolved.metricsAccess !== 'off') app.use(metricsEndpoint(metrics));
  for (const router of routers) app.use(router.routes());
  // Nothing answered: a path that routes answer with other methods is 405 with `Allow` (RFC 9110 §15.5.6),
  // any other 404. Neither names a model: `/v2/models/stats` with POST is not an unknown model "stats".
  app.use((ctx) => {
    const allowed = [
      ...new Set(
        routers.flatMap((r) => r.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods)),
      ),
    ];
    if (allowed.length > 0) {
      throw new HttpError(
        405,
        `Method ${ctx.method} is not allowed on ${ctx.path}; it answers ${allowed.join(', ')}`,
        { Allow: allowed.join(', ') },
      );
    }
    throw new HttpError(404, `No route for ${ctx.method} ${ctx.path}`);
  });

  const loaded = repository
    .loadAll((model, err) => logger.error({ err, model }, 'model failed to load'))
    .then(() => {
      loadedAll = true;
      logger.info({ models: repository.names() }, 'models loaded');
    });

  return {
    app,
    loaded,
    models: () => repository.names(),
    routes: () => [
      ...(resolved.metricsAccess === 'off' ? [] : [{ method: 'GET', path: '/metrics' }]),
      ...routers.flatMap((r) =>
        r.stack.flatMap((layer) =>
          layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })),
        ),
      ),
    ],
    createHttpServer: () => {
      const handle = app.callback();
      // Koa's handler settles its own promise (errors become responses), so the returned promise is not needed.
      // Plain V2 JSON inference requests take the fast path, which hands everything else to the app.
      return createHttpServer(
        fastInferHandler(context, lifecycle, app, (req, res) => void handle(req, res)),
        resolved,
      );
    },
    async createGrpcServer() {
      // Loaded here, so that a server without gRPC never loads @grpc/grpc-js (~0.2 s of start-up).
      const { createGrpcServer } = await import('./grpc/server.js');
      const grpcServer = createGrpcServer(context);
      grpcServers.push(grpcServer);
      return grpcServer;
    },
    async close(closeOptions = {}) {
      const graceMs = closeOptions.graceMs ?? 10_000;
      await Promise.all([lifecycle.drain(graceMs), ...grpcServers.map((s) => s.drain(graceMs))]);
      await loaded.catch(() => undefined);
      await repository.close();
    },
  };
}
