/**
 * Open Inference Protocol V2 REST endpoints (shared/spec/inference_rest.md): health, server and model
 * metadata, model readiness and inference, in JSON or with Triton's binary tensor extension (binary.ts), and
 * Triton's model configuration (config.ts) and statistics (statistics.ts) extensions.
 * Health answers 200 for true and 400 for false, as Triton does.
 */
import { performance } from 'node:perf_hooks';
import { MODEL_REPOSITORY_EXTENSION } from './repository-routes.js';
import Router from '@koa/router';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { readBody, parseJson } from '../http/body.js';
import type { ServerContext } from '../context.js';
import type { ServedModel } from '../served-model.js';
import { INFERENCE_HEADER, splitBody } from './binary.js';
import { parseInferRequest, parseRawInferRequest, type ParsedInferRequest } from './infer-request.js';
import { inferResponse } from './infer-response.js';
import type { RequestState } from '../http/lifecycle.js';
import { MODEL_CONFIGURATION_EXTENSION, modelConfig, servedPolicy } from './config.js';
import { modelStatistics, STATISTICS_EXTENSION } from './statistics.js';

/** The extensions this server implements, listed in server metadata as the protocol requires. */
export const EXTENSIONS: readonly string[] = [
  'binary_tensor_data',
  MODEL_REPOSITORY_EXTENSION,
  MODEL_CONFIGURATION_EXTENSION,
  STATISTICS_EXTENSION,
];

function modelMetadata(model: ServedModel, versions: number[]): Record<string, unknown> {
  return {
    name: model.name,
    versions: versions.map(String),
    platform: model.contract.platform,
    inputs: model.contract.inputs,
    outputs: model.contract.outputs,
    // The spec's `properties` map holds strings only, so the contract travels JSON-encoded. `version` is the
    // version that answers this path: the default one (config.json `default_version`, else the latest) for an
    // unversioned path, which clients record and `promote` takes as the champion.
    properties: {
      version: String(model.version),
      labels: JSON.stringify(model.contract.labels),
      contract: JSON.stringify(model.contract),
    },
  };
}

export function v2Router(server: ServerContext): Router {
  const router = new Router({ prefix: '/v2' });
  const { repository, metrics, options } = server;

  router.get('/', (ctx) => {
    ctx.body = { name: 'batch-infer', version: server.version, extensions: EXTENSIONS };
  });
  router.get('/health/live', (ctx) => {
    ctx.status = 200;
    ctx.body = { live: true };
  });
  router.get('/health/ready', (ctx) => {
    const ready = server.isReady();
    ctx.status = ready ? 200 : 400;
    ctx.body = { ready };
  });
  // Before `/models/:model`, which would take "stats" for a model name (so a model called "stats" has its
  // metadata at /v2/models/stats/versions/{v} only, as in Triton).
  router.get('/models/stats', (ctx) => {
    ctx.body = modelStatistics(repository, metrics.statistics);
  });

  for (const prefix of ['/models/:model', '/models/:model/versions/:version']) {
    router.get(prefix, (ctx) => {
      const model = repository.get(ctx.params.model ?? '', ctx.params.version);
      ctx.body = modelMetadata(model, repository.versions(model.name));
    });
    router.get(`${prefix}/ready`, (ctx) => {
      const model = repository.get(ctx.params.model ?? '', ctx.params.version);
      ctx.status = 200;
      ctx.body = { name: model.name, ready: true };
    });
    router.get(`${prefix}/config`, async (ctx) => {
      const model = repository.get(ctx.params.model ?? '', ctx.params.version);
      ctx.body = modelConfig(model, options, await servedPolicy(repository, model.name));
    });
    router.get(`${prefix}/stats`, (ctx) => {
      ctx.body = modelStatistics(repository, metrics.statistics, ctx.params.model ?? '', ctx.params.version);
    });
    router.post(`${prefix}/infer`, async (ctx) => {
      const arrived = performance.now();
      const model = repository.get(ctx.params.model ?? '', ctx.params.version);
      const labels = { model_name: model.name, model_version: String(model.version) };
      let request: ParsedInferRequest;
      try {
        const body = await readBody(ctx.req, options.maxBodyBytes);
        // Node joins a repeated header with ", ", which splitBody's integer check refuses.
        const split = splitBody(body, ctx.req.headers[INFERENCE_HEADER.toLowerCase()] as string | undefined);
        request =
          split.kind === 'raw'
            ? parseRawInferRequest(split.binary, model.contract)
            : parseInferRequest(parseJson(split.json), model.contract, split.binary);
      } catch (err) {
        metrics.predictionErrors.inc({ ...labels, reason: 'validation' });
        // A request the engine never saw still failed, for the statistics extension as in Triton.
        metrics.statistics.of(model.name, model.version).failed(performance.now() - arrived);
        throw err;
      }
      let outputs;
      try {
        outputs = await model.engine.infer(request.inputs, request.outputNames, {
          deadline: (ctx.state as RequestState).deadline,
        });
      } catch (err) {
        if (isBatchInferError(err, ErrorCodes.INFERENCE))
          metrics.predictionErrors.inc({ ...labels, reason: 'inference' });
        throw err;
      }
      metrics.predictions.inc(labels, request.inputs[0]?.shape[0] ?? 0);
      const response = inferResponse(model, request, outputs);
      if (response.kind === 'binary') ctx.set(INFERENCE_HEADER, String(response.headerLength));
      // The header, not `ctx.type`: Koa would look the type up again on every request.
      ctx.set('Content-Type', response.contentType);
      ctx.body = response.body;
    });
  }
  return router;
}
