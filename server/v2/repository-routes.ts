/**
 * Triton's model repository extension (research/serving.md §1.6, extension_model_repository.md):
 * `POST /v2/repository/index`, `…/models/{m}/load`, `…/models/{m}/unload`. Loading code into a server is an
 * administrator's act, so every route wants `Authorization: Bearer <adminToken>`; without a configured token the
 * extension is switched off (403), never open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import type { ServerContext } from '../context.js';
import { parseJson, readBody } from '../http/body.js';
import { HttpError } from '../http/http-error.js';

/** The extension's name in server metadata (`GET /v2` → `extensions`). */
export const MODEL_REPOSITORY_EXTENSION = 'model_repository';

const digest = (s: string) => createHash('sha256').update(s).digest();

function adminGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (expected === undefined) {
      throw new HttpError(
        403,
        'The model repository API is disabled: no admin token is configured (option adminToken, `batch-infer serve --admin-token`)',
      );
    }
    const given = /^Bearer (.+)$/i.exec(ctx.get('authorization'))?.[1];
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
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
    if (typeof parameters === 'object' && parameters !== null && 'config' in parameters) {
      throw new HttpError(400, 'Loading with `parameters.config` is not supported: edit model.json instead');
    }
    try {
      await repository.load(name);
    } catch (err) {
      // A model that cannot be loaded is the administrator's problem to fix, so say why (Triton answers 400).
      if (isBatchInferError(err, ErrorCodes.MODEL_CONTRACT)) {
        throw new HttpError(400, `Failed to load model "${name}": ${err.message}`);
      }
      throw err;
    }
    server.logger.info({ model: name, versions: repository.versions(name) }, 'model loaded');
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
