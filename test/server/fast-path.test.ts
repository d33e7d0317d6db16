/**
 * Issue #18, the online path: plain V2 JSON inference requests are answered on `node:http` without the Koa
 * app (server/http/fast-infer.ts), with the answers the app gives; anything else goes to the app. And a model
 * whose runs cost less than a worker's hand-off runs on the server's own thread (server/inference/main-thread.ts).
 */
import { request } from 'node:http';
import t from 'tap';
import type { Test } from 'tap';
import { createModelServer, type ModelServerOptions } from '../../server/index.js';
import { listen } from '../../bin/cli/listen.js';
import { holdRuns } from './run-gate.js';
import { metric } from './v2-client.js';

const ROW = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6];
const body = (rows = 1, shape = [rows, 6]) =>
  JSON.stringify({
    inputs: [
      { name: 'features', datatype: 'FP32', shape, data: Array.from({ length: rows }, () => ROW).flat() },
    ],
  });

/** A server whose Koa app counts the requests it is handed. */
async function serve(t: Test, options: ModelServerOptions = {}) {
  const modelServer = createModelServer(options);
  const app = modelServer.app;
  const callback = app.callback.bind(app);
  const seen = { app: 0 };
  app.callback = () => {
    const handle = callback();
    return (req, res) => {
      seen.app++;
      return handle(req, res);
    };
  };
  const listening = await listen(modelServer, 0, '127.0.0.1');
  await modelServer.loaded;
  t.teardown(() => listening.close());
  return { url: listening.url, seen };
}

/** The row count of an inference answer's first output. */
const rowsOf = (text: string): number | undefined =>
  (JSON.parse(text) as { outputs: { shape: number[] }[] }).outputs[0]?.shape[0];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A POST with exactly these headers (node:http adds no Accept-Encoding, unlike fetch). */
function post(url: string, path: string, payload: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const INFER = '/v2/models/weather/infer';
/** `Content-Encoding: identity` is no encoding, but the fast path leaves any Content-Encoding to the app. */
const VIA_APP = { 'content-encoding': 'identity' };

t.test('a plain request skips the app and gets the answer the app gives', async (t) => {
  const { url, seen } = await serve(t);
  const fast = await post(url, INFER, body(), { 'x-request-id': 'abc-1' });
  t.equal(seen.app, 0, 'the app never saw it');
  const slow = await post(url, INFER, body(), { ...VIA_APP, 'x-request-id': 'abc-1' });
  t.equal(seen.app, 1, 'the app answered the other');
  t.equal(fast.status, 200);
  t.equal(fast.text, slow.text, 'same body');
  for (const h of ['content-type', 'content-length', 'vary', 'x-request-id'])
    t.equal(fast.headers[h], slow.headers[h], h);
  t.equal(fast.headers['x-request-id'], 'abc-1', 'the request id is echoed');

  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const traced = await post(url, '/v2/models/weather/versions/1/infer', body(2), {
    traceparent: `00-${traceId}-b7ad6b7169203331-01`,
  });
  t.equal(traced.status, 200);
  t.match(traced.headers.traceresponse, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'the trace goes on');
  t.match(traced.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an id is made');
  t.equal(rowsOf(traced.text), 2);
  t.equal(seen.app, 1);

  // fetch sends Accept-Encoding: a small answer is not compressed, by either path.
  const fetched = await fetch(`${url}${INFER}`, { method: 'POST', body: body() });
  t.equal(fetched.headers.get('content-encoding'), null);
  t.equal(await fetched.text(), fast.text);
  t.equal(seen.app, 1, 'fetch took the fast path too');

  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.equal(
    metric(
      metrics,
      'http_server_request_duration_seconds_count',
      'http_route="/v2/models/:model/infer",http_response_status_code="200"',
    ),
    3,
    'timed under the route template, as the app times',
  );
  t.equal(
    metric(metrics, 'model_predictions_total', 'model_name="weather",model_version="1"'),
    5,
    'rows counted',
  );
});

t.test('a large answer is compressed when asked, as by the app', async (t) => {
  const { url, seen } = await serve(t);
  const fast = await post(url, INFER, body(100), { 'accept-encoding': 'gzip' });
  const slow = await post(url, INFER, body(100), { 'accept-encoding': 'gzip', ...VIA_APP });
  t.equal(seen.app, 1);
  t.equal(fast.headers['content-encoding'], 'gzip');
  t.equal(slow.headers['content-encoding'], 'gzip');
  const unzipped = await fetch(`${url}${INFER}`, { method: 'POST', body: body(100) });
  t.equal(unzipped.headers.get('content-encoding'), 'gzip');
  t.equal(rowsOf(await unzipped.text()), 100);
  t.equal(seen.app, 1);
});

t.test('requests the fast path does not answer go to the app', async (t) => {
  const { url, seen } = await serve(t, { inferenceToken: 'secret' });
  const auth = { authorization: 'Bearer secret' };
  t.equal((await post(url, INFER, body(), auth)).status, 200);
  t.equal(seen.app, 0);

  const cases: [string, Answer][] = [
    ['no token', await post(url, INFER, body())],
    ['an unknown model', await post(url, '/v2/models/nope/infer', body(), auth)],
    ['a bad shape', await post(url, INFER, body(1, [1, 5]), auth)],
    ['not JSON', await post(url, INFER, '{', auth)],
  ];
  t.equal(seen.app, cases.length, 'each was handed to the app');
  t.same(
    cases.map(([what, a]) => [what, a.status]),
    [
      ['no token', 401],
      ['an unknown model', 404],
      ['a bad shape', 400],
      ['not JSON', 400],
    ],
  );
  t.match(
    JSON.parse(cases[2]?.[1].text ?? '{}'),
    { error: /unexpected shape \[1,5\]/ },
    'the validation error',
  );
});

t.test(
  'with CORS on, the answers vary by Origin as the app says, and a browser origin goes to the app',
  async (t) => {
    const { url, seen } = await serve(t, { corsOrigins: ['https://app.example.com'] });
    const fast = await post(url, INFER, body());
    const slow = await post(url, INFER, body(), VIA_APP);
    t.equal(seen.app, 1);
    t.equal(fast.headers.vary, slow.headers.vary);
    t.equal(fast.headers.vary, 'Origin, Accept-Encoding');
    const browser = await post(url, INFER, body(), { origin: 'https://app.example.com' });
    t.equal(seen.app, 2);
    t.equal(browser.headers['access-control-allow-origin'], 'https://app.example.com');
  },
);

t.test('a request still running at the request timeout is answered 504 by the fast path', async (t) => {
  const { url, seen } = await serve(t, { workers: 1, inThreadRunUs: 0, requestTimeoutMs: 300 });
  const gate = holdRuns(t);
  const answer = await post(url, INFER, body());
  gate.open();
  t.equal(seen.app, 0);
  t.equal(answer.status, 504);
  t.same(JSON.parse(answer.text), { error: 'Request timed out after 300 ms' });
  t.ok(answer.headers['x-request-id'], 'with its request id');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.equal(
    metric(
      metrics,
      'http_server_request_duration_seconds_count',
      'http_route="/v2/models/:model/infer",http_response_status_code="504"',
    ),
    1,
  );
  t.equal(metric(metrics, 'http_server_active_requests'), 0, 'no longer active');
});

t.test('a cheap model runs on the server thread; inThreadRunUs 0 keeps it in the workers', async (t) => {
  const inThread = await serve(t);
  const gate = holdRuns(t, { mode: 'spin' });
  for (let i = 0; i < 3; i++) t.equal((await post(inThread.url, INFER, body(i + 1))).status, 200);
  t.equal(gate.held, 0, 'no run went to a worker');

  const workers = await serve(t, { inThreadRunUs: 0 });
  const answer = post(workers.url, INFER, body());
  await gate.until(() => gate.held === 1);
  gate.open();
  t.equal((await answer).status, 200, 'the run went to a worker');
});
