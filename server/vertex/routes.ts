/**
 * Vertex AI's custom container contract (shared/research/serving.md §4): `GET <AIP_HEALTH_ROUTE>` answers 200
 * when ready and 503 otherwise; `POST <AIP_PREDICT_ROUTE>` takes `{"instances": […], "parameters": {…}}` and
 * answers `{"predictions": […]}`, one per instance in order (Vertex adds `deployedModelId` itself). Instances are
 * raw records or feature arrays (records.ts); predictions are `{"label", "classes", "scores"}`, the form of
 * Vertex AI's own classification models plus the winning label. `parameters` is accepted and, as no model of
 * ours takes any, ignored.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import type { InputPlan } from '../../lib/core/input-plan.js';
import type { ServerContext } from '../context.js';
import { parseJson } from '../http/body.js';
import { predict, predictionsBody } from '../predict.js';
import { jsonInstances, type Instance } from '../records.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Vertex's default routes end in `…/deployedModels/<id>:predict`; path-to-regexp would read `:predict` as a parameter. */
function literalPattern(path: string): string {
  return path.replace(/[:*?()+{}[\]!\\]/g, '\\$&');
}

/** Labels request metrics with the route as configured rather than its escaped pattern. */
function routeLabel(route: string) {
  return (ctx: Context, next: Next) => {
    (ctx as Context & { _matchedRoute?: string })._matchedRoute = route;
    return next();
  };
}

function vertexRows(body: Buffer, plan: InputPlan): Instance[] {
  const request = parseJson(body);
  if (!isObject(request) || !Array.isArray(request.instances)) {
    throw new BatchInferError(
      ErrorCodes.BAD_REQUEST,
      'A prediction request must be {"instances": [...], "parameters": {...}}',
    );
  }
  if (request.parameters !== undefined && !isObject(request.parameters))
    throw new BatchInferError(ErrorCodes.BAD_REQUEST, '`parameters` must be an object');
  return jsonInstances(plan, request.instances);
}

export function vertexRouter(server: ServerContext): Router {
  const router = new Router();
  const { vertexHealthRoute, vertexPredictRoute } = server.options;

  router.get(literalPattern(vertexHealthRoute), routeLabel(vertexHealthRoute), (ctx) => {
    ctx.status = server.isReady() ? 200 : 503;
    ctx.body = '';
  });
  router.post(literalPattern(vertexPredictRoute), routeLabel(vertexPredictRoute), async (ctx) => {
    const scores = await predict(server, ctx, vertexRows);
    ctx.type = 'application/json';
    ctx.body = predictionsBody(scores);
  });
  return router;
}
