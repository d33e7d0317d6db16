/**
 * Open Inference Protocol V2 REST endpoints (shared/spec/inference_rest.md): health, server and model
 * metadata, model readiness and JSON inference. Health answers 200 for true and 400 for false, as Triton does.
 */
import Router from '@koa/router';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { readBody, parseJson } from '../http/body.js';
import type { ServerContext } from '../context.js';
import type { ServedModel } from '../served-model.js';
import type { Tensor } from '../inference/types.js';
import { parseInferRequest } from './infer-request.js';
import type { RequestState } from '../http/lifecycle.js';

/** The extensions this server implements, listed in server metadata as the protocol requires. */
export const EXTENSIONS: readonly string[] = [];

function jsonData(output: Tensor): unknown[] {
  if (output.datatype === 'BOOL') return Array.from(output.data as Uint8Array, (v) => v !== 0);
  if (output.data instanceof BigInt64Array || output.data instanceof BigUint64Array)
    return Array.from(output.data, Number);
  return Array.from(output.data as Float32Array);
}

function modelMetadata(model: ServedModel, versions: number[]): Record<string, unknown> {
  return {
    name: model.name,
    versions: versions.map(String),
    platform: model.contract.platform,
    inputs: model.contract.inputs,
    outputs: model.contract.outputs,
    // The spec's `properties` map holds strings only, so the contract travels JSON-encoded.
    properties: { labels: JSON.stringify(model.contract.labels), contract: JSON.stringify(model.contract) },
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
    router.post(`${prefix}/infer`, async (ctx) => {
      const model = repository.get(ctx.params.model ?? '', ctx.params.version);
      const labels = { model_name: model.name, model_version: String(model.version) };
      let request;
      try {
        request = parseInferRequest(parseJson(await readBody(ctx.req, options.maxBodyBytes)), model.contract);
      } catch (err) {
        metrics.predictionErrors.inc({ ...labels, reason: 'validation' });
        throw err;
      }
      const started = performance.now();
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
      metrics.inferenceDuration.observe({ model_name: model.name }, (performance.now() - started) / 1000);
      metrics.predictions.inc(labels, request.inputs[0]?.shape[0] ?? 0);
      ctx.body = {
        model_name: model.name,
        model_version: String(model.version),
        ...(request.id === undefined ? {} : { id: request.id }),
        outputs: outputs.map((o) => ({
          name: o.name,
          datatype: o.datatype,
          shape: o.shape,
          data: jsonData(o),
        })),
      };
    });
  }
  return router;
}
