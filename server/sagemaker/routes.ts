/**
 * SageMaker's inference container contract (shared/research/serving.md §3): `GET /ping` (200 when ready, 503
 * otherwise, empty body), `POST /invocations` and `GET /execution-parameters` for Batch Transform. Invocations
 * score the default model (predict.ts); the body is `text/csv` of raw columns, JSON or JSON Lines, and the
 * answer follows `Accept`: JSON `{"predictions": […]}` by default, JSON Lines, or CSV with one line per row
 * (label, then the probabilities in label order) so Batch Transform's `AssembleWith=Line` keeps rows aligned.
 */
import Router from '@koa/router';
import type { InputPlan } from '../../lib/core/input-plan.js';
import type { Instance } from '../records.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import type { ResolvedServerOptions } from '../options.js';
import { predict, predictionCsv, predictionJson, predictionsBody } from '../predict.js';
import { csvRows } from './csv.js';
import { jsonLinesRows, jsonRows } from './json.js';

type Parse = (body: Buffer, plan: InputPlan) => Instance[] | Promise<Instance[]>;

const PARSERS: Readonly<Record<string, Parse>> = {
  'text/csv': csvRows,
  'application/json': jsonRows,
  'application/jsonlines': jsonLinesRows,
};

const ANSWERS = ['application/json', 'text/csv', 'application/jsonlines'] as const;

const MIB = 1024 * 1024;

/**
 * What Batch Transform should send: as large a payload as the body limit allows, up to SageMaker's default of
 * 6 MB (it counts whole MB, so it is rounded down, and never 0, which would mean chunked streaming), and one
 * transform per inference worker, within SageMaker's rule MaxConcurrentTransforms × MaxPayloadInMB ≤ 100.
 */
export function executionParameters(options: ResolvedServerOptions) {
  const payload = Math.max(1, Math.min(6, Math.floor(options.maxBodyBytes / MIB)));
  return {
    MaxConcurrentTransforms: Math.max(1, Math.min(options.workers, Math.floor(100 / payload))),
    BatchStrategy: 'MULTI_RECORD',
    MaxPayloadInMB: payload,
  };
}

export function sagemakerRouter(server: ServerContext): Router {
  const router = new Router();

  router.get('/ping', (ctx) => {
    ctx.status = server.isReady() ? 200 : 503;
    ctx.body = '';
  });
  router.get('/execution-parameters', (ctx) => {
    ctx.body = executionParameters(server.options);
  });
  router.post('/invocations', async (ctx) => {
    // Refused before the body is read: nothing could be answered in the asked-for form.
    const answer = ctx.accepts(...ANSWERS);
    if (answer === false) throw new HttpError(406, `Accept must allow one of ${ANSWERS.join(', ')}`);
    const parse = PARSERS[ctx.request.type];
    if (parse === undefined) {
      throw new HttpError(
        415,
        `Content-Type ${JSON.stringify(ctx.request.type)} is not supported; send one of ${Object.keys(PARSERS).join(', ')}`,
      );
    }
    const scores = await predict(server, ctx, parse);
    if (answer === 'text/csv') {
      ctx.type = 'text/csv';
      ctx.body = predictionCsv(scores);
    } else if (answer === 'application/jsonlines') {
      ctx.type = 'application/jsonlines';
      ctx.body = predictionJson(scores)
        .map((p) => p + '\n')
        .join('');
    } else {
      ctx.type = 'application/json';
      ctx.body = predictionsBody(scores);
    }
  });
  return router;
}
