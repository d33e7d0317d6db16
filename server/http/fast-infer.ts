/**
 * The fast path of the one request a model server answers most: a V2 JSON inference request,
 * `POST /v2/models/{m}[/versions/{v}]/infer` (issue #18). It answers on `node:http` directly what the Koa app
 * would answer through its ten middlewares and four routers, which cost the event loop about as much as the
 * rest of such a request together (benchmarks/README.md, "Online path"). Everything else, and every request
 * that is not plain, goes to the Koa app, so the fast path needs to know only the common case:
 *
 * - taken only by a POST to the exact path, with a model name and version that the path checks would accept
 *   unchanged (no percent-encoding), a model that is served, a `Content-Length` within the body limit, no
 *   `Content-Encoding` or binary extension header, no `Origin` when CORS is on, a valid inference token when
 *   one is set, and the server not shutting down;
 * - a body that does not parse or validate is handed, already read, to the Koa app (body.ts `setReadBody`),
 *   which answers it as ever (errors, metrics, statistics), so the fast path has no validation errors of its own;
 * - once the request is valid it is answered here, as the app would: the same body, `x-request-id`,
 *   `traceresponse` and `Vary` headers, the request timeout (504), in-flight tracking for shutdown, the
 *   `http_server_*` and model metrics, the error bodies (error-middleware.ts `errorAnswer`, paths redacted),
 *   the access log line, and compression of answers over the threshold when `Accept-Encoding` asks for it
 *   (negotiated by the app's own `acceptsEncodings`, compression.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { serverSpan, traceFields, type Span } from '../../lib/core/trace-context.js';
import type { ServerContext } from '../context.js';
import { MODEL_NAME } from '../model-name.js';
import type { ServedModel } from '../served-model.js';
import { INFERENCE_HEADER } from '../v2/binary.js';
import { parseInferRequest, type ParsedInferRequest } from '../v2/infer-request.js';
import { inferResponse } from '../v2/infer-response.js';
import { bearerCheck } from './bearer.js';
import { compress, COMPRESSION_THRESHOLD } from './compression.js';
import { parseJson, readBody, setReadBody } from './body.js';
import { errorAnswer } from './error-middleware.js';
import { requestIdOf, timedOut, traceresponse, type Lifecycle } from './lifecycle.js';
import { VERSION } from './model-path.js';
import { activeRequests } from './metrics-middleware.js';
import { pathRedactor } from './redact.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** `/v2/models/{m}/infer` and `/v2/models/{m}/versions/{v}/infer`, with an optional query. */
const INFER_PATH = /^\/v2\/models\/([^/?]+)(?:\/versions\/([^/?]+))?\/infer(?:\?|$)/;
const ROUTES = ['/v2/models/:model/infer', '/v2/models/:model/versions/:version/infer'] as const;
const JSON_TYPE = 'application/json; charset=utf-8';
const BINARY_HEADER = INFERENCE_HEADER.toLowerCase();

/** A request the fast path takes: its model, the route template (for metrics) and the path (for the log). */
interface Taken {
  model: ServedModel;
  route: string;
  path: string;
}

/**
 * The server's `node:http` handler: the fast path for plain V2 JSON inference requests, `app` (the Koa app's
 * handler, `koa` the app) for everything else.
 */
export function fastInferHandler(
  server: ServerContext,
  lifecycle: Lifecycle,
  koa: Koa,
  app: Handler,
): Handler {
  const { repository, metrics, options, logger } = server;
  const check = options.inferenceToken === undefined ? undefined : bearerCheck(options.inferenceToken);
  const cors = options.corsOrigins.length > 0;
  const timeoutMs = options.requestTimeoutMs;
  const redact = pathRedactor(options.models);
  const active = activeRequests(metrics);
  // As the app's CORS middleware, then its compression middleware, set it.
  const vary = cors ? 'Origin, Accept-Encoding' : 'Accept-Encoding';
  /** Per model version: its metric labels and its row counter. */
  const perModel = new WeakMap<
    ServedModel,
    { labels: { model_name: string; model_version: string }; rows: (rows: number) => void }
  >();
  const modelOf = (model: ServedModel) => {
    let m = perModel.get(model);
    if (m === undefined) {
      const version = String(model.version);
      m = {
        labels: { model_name: model.name, model_version: version },
        rows: metrics.rowsCounter(model.name, version),
      };
      perModel.set(model, m);
    }
    return m;
  };
  /** The duration histogram's labels, one object per route and status. */
  const durationLabels = new Map<string, Record<string, string>>();
  const durationLabelsOf = (route: string, status: number) => {
    const key = `${route} ${status}`;
    let l = durationLabels.get(key);
    if (l === undefined) {
      l = { http_request_method: 'POST', http_route: route, http_response_status_code: String(status) };
      durationLabels.set(key, l);
    }
    return l;
  };

  /** The model and route when the fast path may take the request; undefined leaves it to the app. */
  function take(req: IncomingMessage): Taken | undefined {
    if (req.method !== 'POST' || lifecycle.closing) return undefined;
    const url = req.url ?? '';
    const match = INFER_PATH.exec(url);
    if (match === null) return undefined;
    const [, name = '', version] = match;
    const h = req.headers;
    const length = Number(h['content-length']);
    if (
      !MODEL_NAME.test(name) ||
      (version !== undefined && !VERSION.test(version)) ||
      !(length <= options.maxBodyBytes) ||
      h['content-encoding'] !== undefined ||
      h[BINARY_HEADER] !== undefined ||
      (cors && h.origin !== undefined) ||
      (check !== undefined && !check(h.authorization ?? ''))
    )
      return undefined;
    let model: ServedModel;
    try {
      model = repository.get(name, version);
    } catch {
      return undefined;
    }
    const query = url.indexOf('?');
    return {
      model,
      route: ROUTES[version === undefined ? 0 : 1],
      path: query < 0 ? url : url.slice(0, query),
    };
  }

  async function serve(req: IncomingMessage, res: ServerResponse, { model, route, path }: Taken) {
    const started = performance.now();
    const deadline = Date.now() + timeoutMs;
    lifecycle.enter();
    active.inc();
    let answered = false;
    /** Answered already (at the request timeout, while the work went on). */
    const settled = (): boolean => answered;
    let requestId: string | undefined;
    let trace: Span | undefined;
    const timer = setTimeout(() => fail(timedOut(timeoutMs)), timeoutMs);

    /** The request leaves the fast path: no longer in flight here, timed with its status. */
    const leave = (status: number | undefined): void => {
      answered = true;
      clearTimeout(timer);
      lifecycle.leave();
      active.dec();
      if (status !== undefined)
        metrics.requestDuration.observe(
          durationLabelsOf(route, status),
          (performance.now() - started) / 1000,
        );
    };
    const requestLog = () =>
      logger.child({ request_id: requestId, ...traceFields(trace ?? serverSpan(undefined)) });
    const answer = (status: number, headers: Record<string, string | number>, body: string | Buffer) => {
      requestId ??= requestIdOf(req.headers['x-request-id'] as string | undefined);
      trace ??= serverSpan(req.headers.traceparent as string | undefined);
      res.writeHead(status, {
        ...headers,
        'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
        'x-request-id': requestId,
        traceresponse: traceresponse(trace),
        Vary: vary,
      });
      res.end(body);
      leave(status);
    };
    function fail(err: unknown): void {
      if (settled()) return;
      const a = errorAnswer(err);
      const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, ...a.headers };
      if (a.status === 503) headers['Retry-After'] ??= '1';
      answer(a.status, headers, JSON.stringify({ error: redact(a.message) }));
      if (a.unexpected) requestLog().error({ err, method: 'POST', path }, 'request failed');
      const line = { method: 'POST', path, status: a.status };
      if (a.refused) requestLog().warn(line, 'request');
      else if (logger.isLevelEnabled('debug')) requestLog().debug(line, 'request');
    }

    let body: Buffer;
    try {
      body = await readBody(req, options.maxBodyBytes);
    } catch (err) {
      fail(err);
      return;
    }
    if (settled()) return;
    let request: ParsedInferRequest;
    try {
      request = parseInferRequest(parseJson(body), model.contract);
    } catch {
      // The app answers it, with its validation error.
      leave(undefined);
      setReadBody(req, body);
      app(req, res);
      return;
    }
    const served = modelOf(model);
    let outputs;
    try {
      outputs = await model.engine.infer(request.inputs, request.outputNames, { deadline });
    } catch (err) {
      if (isBatchInferError(err, ErrorCodes.INFERENCE))
        metrics.predictionErrors.inc({ ...served.labels, reason: 'inference' });
      fail(err);
      return;
    }
    served.rows(request.inputs[0]?.shape[0] ?? 0);
    if (settled()) return;
    const response = inferResponse(model, request, outputs);
    const headers: Record<string, string | number> =
      response.kind === 'binary'
        ? { 'Content-Type': response.contentType, [INFERENCE_HEADER]: response.headerLength }
        : { 'Content-Type': response.contentType };
    let content: string | Buffer = response.body;
    if (req.headers['accept-encoding'] !== undefined) {
      const length = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
      const encoding =
        length < COMPRESSION_THRESHOLD
          ? undefined
          : koa.createContext(req, res).acceptsEncodings('gzip', 'deflate', 'identity');
      if (encoding === 'gzip' || encoding === 'deflate') {
        try {
          content = await compress(encoding, content);
        } catch (err) {
          fail(err);
          return;
        }
        headers['Content-Encoding'] = encoding;
      }
    }
    if (settled()) return;
    answer(200, headers, content);
    if (logger.isLevelEnabled('debug')) requestLog().debug({ method: 'POST', path, status: 200 }, 'request');
  }

  return (req, res) => {
    const taken = take(req);
    if (taken === undefined) app(req, res);
    else void serve(req, res, taken);
  };
}
