/**
 * Who may call what (issue #10 point 6): the inference token guards every route but the health probes; the
 * repository API wants the admin token and only it; `/metrics` is open, token-guarded or off as configured;
 * CORS is off unless origins are allowed, and preflights are answered both ways.
 */
import t from 'tap';
import { createModelServer } from '../../server/index.js';
import { startServer } from '../helpers.js';

const TOKEN = 'inference-s3cret';
const ADMIN = 'admin-s3cret';
const INFER = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
});
const RECORD = JSON.stringify({
  instances: [{ date: '2015-06-01', precipitation: 0, temp_max: 20, temp_min: 10, wind: 3 }],
});

/** Every route but the health probes and the repository API, as a request that succeeds with the token. */
const GUARDED: [string, string, string?, string?][] = [
  ['GET', '/v2'],
  ['GET', '/v2/models/weather'],
  ['GET', '/v2/models/weather/versions/1'],
  ['GET', '/v2/models/weather/ready'],
  ['POST', '/v2/models/weather/infer', INFER, 'application/json'],
  ['POST', '/v2/models/weather/versions/1/infer', INFER, 'application/json'],
  ['POST', '/invocations', RECORD, 'application/json'],
  ['GET', '/execution-parameters'],
  ['POST', '/v1/predict', RECORD, 'application/json'],
];
const HEALTH = ['/v2/health/live', '/v2/health/ready', '/ping', '/v1/health'];

function call(url: string, [method, path, body, type]: [string, string, string?, string?], auth?: string) {
  const headers: Record<string, string> = {};
  if (type !== undefined) headers['content-type'] = type;
  if (auth !== undefined) headers.authorization = auth;
  return fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) });
}

t.test('with an inference token, every route but the health probes wants it', async (t) => {
  const url = await startServer(t, {
    inferenceToken: TOKEN,
    vertexHealthRoute: '/v1/health',
    vertexPredictRoute: '/v1/predict',
  });
  for (const route of GUARDED) {
    const what = `${route[0]} ${route[1]}`;
    const none = await call(url, route);
    t.equal(none.status, 401, `${what} without a token: 401`);
    t.equal(none.headers.get('www-authenticate'), 'Bearer realm="inference"');
    t.match(await none.json(), { error: /Authorization: Bearer/ });
    for (const wrong of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
      'Bearer',
    ]) {
      t.equal((await call(url, route, wrong)).status, 401, `${what} with ${JSON.stringify(wrong)}: 401`);
    }
    t.equal((await call(url, route, `Bearer ${TOKEN}`)).status, 200, `${what} with the token: 200`);
  }
  t.equal((await call(url, GUARDED[0]!, `bearer ${TOKEN}`)).status, 200, 'the scheme is case-insensitive');
  t.equal((await call(url, ['GET', '/nowhere'])).status, 401, 'unknown routes reveal nothing without it');
  for (const path of HEALTH) t.equal((await fetch(url + path)).status, 200, `${path} stays open for probes`);
  t.equal((await fetch(`${url}/V2/HEALTH/LIVE`)).status, 401, 'only the exact probe paths are open');
  t.equal((await fetch(`${url}/metrics`)).status, 200, '/metrics is open by default');
});

t.test('/metrics can want the inference token, or be off', async (t) => {
  const guarded = await startServer(t, { inferenceToken: TOKEN, metricsAccess: 'token' });
  t.equal((await fetch(`${guarded}/metrics`)).status, 401);
  const scraped = await fetch(`${guarded}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(scraped.status, 200);
  t.match(await scraped.text(), /http_server_active_requests/);

  const off = await startServer(t, { metricsAccess: 'off' });
  t.equal((await fetch(`${off}/metrics`)).status, 404, 'off: not served at all');
  const unlisted = createModelServer({ metricsAccess: 'off', workers: 1 });
  t.teardown(() => unlisted.close());
  t.notOk(
    unlisted.routes().some((r) => r.path === '/metrics'),
    'and not listed among the routes',
  );
  t.throws(() => createModelServer({ metricsAccess: 'token' }), {
    message: /"token" needs an `inferenceToken`/,
  });
});

t.test('the repository API wants the admin token, never the inference token', async (t) => {
  const url = await startServer(t, { inferenceToken: TOKEN, adminToken: ADMIN });
  const index = (auth?: string) =>
    fetch(`${url}/v2/repository/index`, {
      method: 'POST',
      ...(auth === undefined ? {} : { headers: { authorization: `Bearer ${auth}` } }),
    });
  t.equal((await index()).status, 401);
  t.equal((await index(TOKEN)).status, 401, 'the inference token does not open it');
  t.equal((await index(ADMIN)).status, 200, 'the admin token does, without the inference token');
  const infer = await call(url, GUARDED[4]!, `Bearer ${ADMIN}`);
  t.equal(infer.status, 401, 'and the admin token does not open inference');
});

t.test('tokens are checked when the server is made', async (t) => {
  for (const token of ['with space', 'line\n', 'tab\t', 'ünï', '']) {
    t.throws(() => createModelServer({ inferenceToken: token }), { code: 'BI_ERR_INVALID_OPTION' });
    t.throws(() => createModelServer({ adminToken: token }), { code: 'BI_ERR_INVALID_OPTION' });
  }
});

t.test('CORS is off by default: preflights are refused and answers carry no CORS header', async (t) => {
  const url = await startServer(t);
  const preflight = await fetch(`${url}/v2/models/weather/infer`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
  });
  t.equal(preflight.status, 403);
  t.equal(preflight.headers.get('access-control-allow-origin'), null);
  t.match(await preflight.json(), { error: /Cross-origin requests are not enabled/ });
  const simple = await fetch(`${url}/v2`, { headers: { origin: 'https://app.example.com' } });
  t.equal(simple.status, 200, 'the request itself is served (a browser hides the answer from the page)');
  t.equal(simple.headers.get('access-control-allow-origin'), null);
});

t.test('CORS with an allow-list: allowed origins pass the preflight, others do not', async (t) => {
  const allowed = 'https://app.example.com';
  const url = await startServer(t, { corsOrigins: [allowed], inferenceToken: TOKEN });
  const preflight = (origin: string) =>
    fetch(`${url}/v2/models/weather/infer`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
  const yes = await preflight(allowed);
  t.equal(yes.status, 204, 'the preflight needs no token (browsers never send one)');
  t.equal(yes.headers.get('access-control-allow-origin'), allowed);
  t.match(yes.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  t.match(yes.headers.get('access-control-allow-methods') ?? '', /POST/);
  t.match(yes.headers.get('vary') ?? '', /Origin/);
  const no = await preflight('https://evil.example.com');
  t.equal(no.status, 403);
  t.equal(no.headers.get('access-control-allow-origin'), null);

  const infer = (origin: string) =>
    fetch(`${url}/v2/models/weather/infer`, {
      method: 'POST',
      headers: { origin, authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: INFER,
    });
  const ok = await infer(allowed);
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('access-control-allow-origin'), allowed);
  t.match(ok.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/);
  const other = await infer('https://evil.example.com');
  t.equal(other.headers.get('access-control-allow-origin'), null, 'another origin gets no CORS header');

  const any = await startServer(t, { corsOrigins: ['*'] });
  const wildcard = await fetch(`${any}/v2`, { headers: { origin: 'https://anywhere.example' } });
  t.equal(wildcard.headers.get('access-control-allow-origin'), '*');
});

t.test('CORS origins are checked when the server is made', async (t) => {
  for (const origin of ['https://app.example.com/', 'app.example.com', 'https://a.com/path', '', 42]) {
    t.throws(() => createModelServer({ corsOrigins: [origin as string] }), { message: /corsOrigins/ });
  }
  t.throws(() => createModelServer({ corsOrigins: 'https://a.com' as unknown as string[] }), {
    message: /expected an array/,
  });
});
