import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import t from 'tap';
import { startServer } from '../helpers.js';
import { asFloat32, expectedFor, RECORDS } from './single-model-helpers.js';

// Vertex AI's default routes (AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE); note the colon in the predict route.
const HEALTH = '/v1/endpoints/123/deployedModels/456';
const PREDICT = '/v1/endpoints/123/deployedModels/456:predict';

interface Prediction {
  label: string;
  classes: string[];
  scores: number[];
}

const predict = (url: string, body: unknown, route = PREDICT) =>
  fetch(`${url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

t.test('default routes /health and /predict', async (t) => {
  const url = await startServer(t);
  t.equal((await fetch(`${url}/health`)).status, 200);
  const res = await predict(url, { instances: [RECORDS[0]] }, '/predict');
  t.equal(res.status, 200);
  t.equal(((await res.json()) as { predictions: unknown[] }).predictions.length, 1);
});

t.test('health route from options: 200 when ready, 503 without a model', async (t) => {
  const url = await startServer(t, { vertexHealthRoute: HEALTH, vertexPredictRoute: PREDICT });
  const health = await fetch(`${url}${HEALTH}`);
  t.equal(health.status, 200);
  t.equal((await fetch(`${url}/health`)).status, 404, 'the default route is not served then');
  const empty = await startServer(t, {
    models: await mkdtemp(`${tmpdir()}/empty-repo-`),
    vertexHealthRoute: HEALTH,
  });
  t.equal((await fetch(`${empty}${HEALTH}`)).status, 503);
});

t.test('raw-record and feature-array instances score like /v2', async (t) => {
  const url = await startServer(t, { vertexHealthRoute: HEALTH, vertexPredictRoute: PREDICT });
  const expected = await expectedFor(url);
  const numeric = RECORDS.map((r) => ({
    date: r.date,
    precipitation: Number(r.precipitation),
    temp_max: Number(r.temp_max),
    temp_min: r.temp_min,
    wind: Number(r.wind),
  }));
  for (const [name, instances] of [
    ['records of strings', RECORDS],
    ['records of numbers and strings', numeric],
    ['feature arrays', expected.features],
  ] as const) {
    const res = await predict(url, { instances, parameters: { confidence: 0.5 } });
    t.equal(res.status, 200, name);
    const { predictions } = (await res.json()) as { predictions: Prediction[] };
    t.same(
      predictions.map((p) => p.label),
      expected.labels,
      name,
    );
    t.same(predictions[0]?.classes, expected.contract.labels, name);
    t.same(
      predictions.map((p) => asFloat32(p.scores)),
      expected.probabilities,
      name,
    );
  }
  const text = await (await fetch(`${url}/metrics`)).text();
  t.match(
    text,
    /http_route="\/v1\/endpoints\/123\/deployedModels\/456:predict",http_response_status_code="200"\} 3/,
  );
});

t.test('bad instances and bodies are 400 and say which instance', async (t) => {
  const url = await startServer(t, { vertexPredictRoute: PREDICT });
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{"instances"', /not valid JSON/],
    ['no instances', { rows: [] }, /must be \{"instances"/],
    ['instances not a list', { instances: RECORDS[0] }, /must be \{"instances"/],
    ['parameters not an object', { instances: RECORDS, parameters: [1] }, /`parameters` must be an object/],
    ['empty instances', { instances: [] }, /holds no instances/],
    [
      'bad value',
      { instances: [RECORDS[0], { ...RECORDS[0], wind: 'windy' }] },
      /^instances\[1\]: column "wind": not a number: "windy"$/,
    ],
    [
      'bad date',
      { instances: [{ ...RECORDS[0], date: '01/02/2012' }] },
      /^instances\[0\]: column "date": not an ISO date/,
    ],
    [
      'missing column',
      { instances: [{ date: '2012-01-01' }] },
      /^instances\[0\]: column "precipitation": missing value$/,
    ],
    [
      'feature array of strings',
      { instances: [['1', 2, 3, 4, 5, 6]] },
      /^instances\[0\]: feature 0 is "1", not a number$/,
    ],
    [
      'neither record nor array',
      { instances: [42] },
      /^instances\[0\]: expected a record .* or an array of 6 feature values, got 42$/,
    ],
  ];
  for (const [name, body, message] of cases) {
    const res = await predict(url, body);
    t.equal(res.status, 400, name);
    t.match(((await res.json()) as { error: string }).error, message, name);
  }
});

t.test('a body over maxBodyBytes is 413', async (t) => {
  const url = await startServer(t, { maxBodyBytes: 200 });
  const res = await predict(url, { instances: Array(20).fill(RECORDS[0]) }, '/predict');
  t.equal(res.status, 413);
});
