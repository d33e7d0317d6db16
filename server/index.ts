/**
 * `createModelServer` — a Koa app serving a model repository over the Open Inference Protocol V2.
 * The factory builds the app and starts loading models; listening and signal handling are the caller's
 * (the CLI's `serve`, or a test's server on port 0).
 */
import Koa from 'koa';
import { pino } from 'pino';
import { VERSION } from '../lib/version.js';
import type { ServerContext } from './context.js';
import { errorMiddleware } from './http/error-middleware.js';
import { HttpError } from './http/http-error.js';
import { createServerMetrics } from './metrics.js';
import { normalizeServerOptions, type ModelServerOptions } from './options.js';
import { ModelRepository } from './repository.js';
import { v2Router } from './v2/routes.js';
import { metricsMiddleware } from './http/metrics-middleware.js';

export type { ModelServerOptions } from './options.js';

export interface ModelServer {
  /** The Koa application; serve it with `http.createServer(server.app.callback())`. */
  readonly app: Koa;
  /** Resolves once the repository has been loaded (models that failed are logged and skipped). */
  readonly loaded: Promise<void>;
  /** Names of the models being served. */
  models(): string[];
  /** Stops answering ready and releases every model session. */
  close(): Promise<void>;
}

export function createModelServer(options: ModelServerOptions = {}): ModelServer {
  const resolved = normalizeServerOptions(options);
  const logger = options.logger ?? pino({ level: 'silent' });
  const repository = new ModelRepository(resolved.models);
  const metrics = createServerMetrics();
  let state: 'loading' | 'ready' | 'closed' = 'loading';
  const context: ServerContext = {
    version: VERSION,
    repository,
    metrics,
    options: resolved,
    logger,
    isReady: () => state === 'ready' && repository.size > 0,
  };

  const app = new Koa();
  // Metrics outermost, so a request's duration is recorded with the status the error middleware chose.
  app.use(metricsMiddleware(metrics));
  app.use(errorMiddleware(logger));
  const router = v2Router(context);
  app.use(router.routes());
  app.use(
    router.allowedMethods({ throw: true, methodNotAllowed: () => new HttpError(405, 'Method not allowed') }),
  );
  app.use((ctx) => {
    throw new HttpError(404, `No route for ${ctx.method} ${ctx.path}`);
  });

  const loaded = repository
    .loadAll((model, err) => logger.error({ err, model }, 'model failed to load'))
    .then(() => {
      if (state === 'loading') state = 'ready';
      logger.info({ models: repository.names() }, 'models loaded');
    });

  return {
    app,
    loaded,
    models: () => repository.names(),
    async close() {
      state = 'closed';
      await loaded.catch(() => undefined);
      await repository.close();
    },
  };
}
