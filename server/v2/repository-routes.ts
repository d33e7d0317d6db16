/**
 * Triton's model repository extension (research/serving.md §1.6, extension_model_repository.md):
 * `POST /v2/repository/index`, `…/models/{m}/load`, `…/models/{m}/unload`. Loading code into a server is an
 * administrator's act, so every route wants `Authorization: Bearer <adminToken>`; without a configured token the
 * extension is switched off (403), never open.
 *
 * A load may carry `{"parameters": {"config": "<json>"}}`, Triton's config override, here a model config
 * (lib/model-files.ts: `version_policy`, `default_version`) used for that load instead of config.json: staging
 * a challenger next to the champion, promoting it, rolling back — each one atomic reload.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { parseModelConfig, type ModelConfig } from '../../lib/model-files.js';
import type { ServerContext } from '../context.js';
import { parseJson, readBody } from '../http/body.js';
import { bearerCheck } from '../http/bearer.js';
import { HttpError } from '../http/http-error.js';

/** The extension's name in server metadata (`GET /v2` → `extensions`). */
export const MODEL_REPOSITORY_EXTENSION = 'model_repository';

function adminGuard(token: string | undefined) {
  const check = token === undefined ? undefined : bearerCheck(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (check === undefined) {
      throw new HttpError(
        403,
        'The model repository API is disabled: no admin token is configured (option adminToken, `batch-infer serve --admin-token`)',
      );
    }
    if (!check(ctx.get('authorization'))) {
      throw new HttpError(401, 'A valid `Authorization: Bearer <admin token>` header is required', {
        'WWW-Authenticate': 'Bearer realm="model repository"',
      });
    }
    await next();
  };
}

/** The optional JSON body of these routes; an empty body is `{}`. */
async function optionalBody(ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const raw = await readBody(ctx.req, limit);
  if (raw.length === 0) return {};
  const body = parseJson(raw);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** The load request's config override, checked; undefined without one. Anything else in `parameters` is 400. */
function configOverride(parameters: unknown): ModelConfig | undefined {
  if (parameters === undefined) return undefined;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    throw new HttpError(400, '`parameters` must be a JSON object');
  const unknown = Object.keys(parameters).filter((k) => k !== 'config');
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      `Unsupported load parameter ${JSON.stringify(unknown[0])}: only \`config\` (a model config override) is`,
    );
  }
  const { config } = parameters as { config?: unknown };
  if (config === undefined) return undefined;
  if (typeof config !== 'string')
    throw new HttpError(400, '`parameters.config` must be a string holding the model config as JSON');
  return parseConfigText(config);
}

/** A load's config override, as Triton's `parameters.config` carries it: a JSON string; 400 when it is not one. */
export function parseConfigText(text: string): ModelConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `\`parameters.config\` is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseModelConfig(parsed, '`parameters.config`');
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

export function repositoryRouter(server: ServerContext): Router {
  const router = new Router({ prefix: '/v2/repository' });
  const { repository, options } = server;
  const guard = adminGuard(options.adminToken);

  router.post('/index', guard, async (ctx) => {
    const { ready = false } = await optionalBody(ctx, options.maxBodyBytes);
    if (typeof ready !== 'boolean') throw new HttpError(400, '`ready` must be a boolean');
    ctx.body = await repository.index(ready);
  });

  router.post('/models/:model/load', guard, async (ctx) => {
    const name = ctx.params.model ?? '';
    const { parameters } = await optionalBody(ctx, options.maxBodyBytes);
    const override = configOverride(parameters);
    try {
      await repository.load(name, override);
    } catch (err) {
      // A model that cannot be loaded is the administrator's problem to fix, so say why (Triton answers 400).
      if (isBatchInferError(err, ErrorCodes.MODEL_CONTRACT)) {
        throw new HttpError(400, `Failed to load model "${name}": ${err.message}`);
      }
      throw err;
    }
    server.logger.info(
      {
        model: name,
        versions: repository.versions(name),
        default_version: repository.defaultVersion(name),
        ...(override === undefined ? {} : { config: override }),
      },
      'model loaded',
    );
    ctx.body = { name, versions: repository.versions(name).map(String) };
  });

  router.post('/models/:model/unload', guard, async (ctx) => {
    const name = ctx.params.model ?? '';
    await optionalBody(ctx, options.maxBodyBytes);
    await repository.unload(name);
    server.logger.info({ model: name }, 'model unloaded');
    ctx.body = { name };
  });

  return router;
}
