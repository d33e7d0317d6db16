/**
 * Issue #18: Triton's statistics extension, `GET /v2/models[/{m}[/versions/{v}]]/stats`. The counts change by
 * exactly the requests sent: rows, model runs, successes and failures (invalid requests, runs that fail).
 */
import t, { type Test } from 'tap';
import { startServer, tempDir } from '../helpers.js';
import type { ModelStat } from '../../server/inference/statistics.js';
import {
  copyWeather,
  lookupModel,
  LOOKUP_CONTRACT,
  slowModel,
  SLOW_CONTRACT,
  writeModel,
} from './model-fixtures.js';
import { holdRuns } from './run-gate.js';
import { untilMetric } from './v2-client.js';

const TOKEN = 'stats-token';

function rows(n: number): number[] {
  return Array.from({ length: n * 6 }, (_, k) => Math.sin(k));
}

async function ask(url: string, model: string, input: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [input] }),
  });
  await res.arrayBuffer();
  return res.status;
}

const weatherRows = (n: number) => ({ name: 'features', datatype: 'FP32', shape: [n, 6], data: rows(n) });

async function stats(url: string, path = ''): Promise<ModelStat[]> {
  const res = await fetch(`${url}/v2/models${path}/stats`);
  if (res.status !== 200) throw new Error(`${path}/stats answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { model_stats: ModelStat[] }).model_stats;
}

function only(t: Test, list: ModelStat[]): ModelStat {
  t.equal(list.length, 1, 'one model version');
  return list[0] as ModelStat;
}

t.test('a fresh model version has zero statistics in Triton’s shape', async (t) => {
  const url = await startServer(t);
  const zero = { count: 0, ns: 0 };
  t.same(await stats(url), [
    {
      name: 'weather',
      version: '1',
      last_inference: 0,
      inference_count: 0,
      execution_count: 0,
      inference_stats: {
        success: zero,
        fail: zero,
        queue: zero,
        compute_input: zero,
        compute_infer: zero,
        compute_output: zero,
      },
      batch_stats: [],
    },
  ]);
  const server = (await (await fetch(`${url}/v2`)).json()) as { extensions: string[] };
  t.ok(server.extensions.includes('statistics'), 'listed in server metadata');
});

t.test('requests one at a time: one run each, rows counted, failures counted', async (t) => {
  const url = await startServer(t);
  const before = Date.now();
  for (const n of [2, 1, 3, 2]) t.equal(await ask(url, 'weather', weatherRows(n)), 200);
  // Two requests that fail validation: a wrong width, a body that is not JSON.
  t.equal(
    await ask(url, 'weather', { name: 'features', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }),
    400,
  );
  const bad = await fetch(`${url}/v2/models/weather/versions/1/infer`, { method: 'POST', body: '{' });
  t.equal(bad.status, 400);
  const after = Date.now();

  const s = only(t, await stats(url, '/weather/versions/1'));
  t.same(await stats(url, '/weather'), [s], 'the model’s stats list its one version');
  t.same(await stats(url), [s], 'all models’ stats too');
  t.equal(s.inference_count, 8, 'rows of the successful requests');
  t.equal(s.execution_count, 4, 'one run per request sent alone');
  const i = s.inference_stats;
  for (const key of ['success', 'queue', 'compute_input', 'compute_infer', 'compute_output'] as const)
    t.equal(i[key].count, 4, `${key}.count`);
  t.equal(i.fail.count, 2, 'fail.count');
  t.ok(i.success.ns > 0 && i.compute_infer.ns > 0 && i.fail.ns > 0, 'durations are counted');
  t.ok(i.success.ns >= i.compute_infer.ns + i.queue.ns, 'a request takes at least its queue and run time');
  t.ok(Number.isSafeInteger(i.success.ns), 'ns are integers');
  t.ok(s.last_inference >= before && s.last_inference <= after, 'last_inference is epoch ms');
  t.same(
    s.batch_stats.map((b) => [b.batch_size, b.compute_infer.count, b.compute_input.count]),
    [
      [1, 1, 1],
      [2, 2, 2],
      [3, 1, 1],
    ],
    'runs per batch size',
  );

  // Exactly the next requests are added.
  t.equal(await ask(url, 'weather', weatherRows(5)), 200);
  const next = only(t, await stats(url, '/weather'));
  t.equal(next.inference_count, 13);
  t.equal(next.execution_count, 5);
  t.equal(next.inference_stats.success.count, 5);
  t.equal(next.inference_stats.fail.count, 2);
});

t.test('concurrent requests share runs; runs and rows add up', async (t) => {
  const repo = await tempDir(t);
  await writeModel(repo, 'slow', 1, slowModel(4, 512), SLOW_CONTRACT('slow'));
  const url = await startServer(t, { models: repo, workers: 1, maxQueueDelayMs: 1000 });
  const x = (n: number) => ({ name: 'x', datatype: 'FP32', shape: [n, 4], data: rows(n).slice(0, n * 4) });
  // The first run is held in the only worker until the other requests have queued behind it (a sleep of 20 ms
  // beside a 0.1 s run decided that by the machine's speed; issue #20).
  const gate = holdRuns(t);
  const first = ask(url, 'slow', x(3));
  await gate.until(() => gate.held === 1);
  const asked = Promise.all([1, 2, 1, 2, 1, 2, 1, 2].map((n) => ask(url, 'slow', x(n))));
  await untilMetric(url, 'model_inflight_requests', 'model_name="slow"', 9);
  gate.open();
  const statuses = await asked;
  t.equal(await first, 200);
  t.ok(statuses.every((s) => s === 200));
  const s = only(t, await stats(url));
  t.equal(s.inference_stats.success.count, 9);
  t.equal(s.inference_stats.queue.count, 9);
  t.equal(s.inference_count, 15);
  const runs = s.batch_stats.reduce((sum, b) => sum + b.compute_infer.count, 0);
  t.equal(s.execution_count, runs, 'execution_count is the runs of every batch size');
  t.equal(
    s.batch_stats.reduce((sum, b) => sum + b.batch_size * b.compute_infer.count, 0),
    15,
    'batch sizes times runs are the rows',
  );
  t.comment(`9 requests in ${runs} runs: ${JSON.stringify(s.batch_stats.map((b) => b.batch_size))}`);
  t.equal(runs, 2, 'the held run, then the eight queued requests in one');
  t.ok(
    s.inference_stats.compute_infer.ns > s.batch_stats.reduce((sum, b) => sum + b.compute_infer.ns, 0),
    'a shared run counts for each of its requests',
  );
});

t.test('a run that fails counts as a failure of its model version only', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  await writeModel(repo, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  const url = await startServer(t, { models: repo, adminToken: TOKEN });
  const lookup = (i: number) => ({ name: 'i', datatype: 'INT64', shape: [1, 1], data: [i] });
  t.equal(await ask(url, 'lookup', lookup(2)), 200);
  t.equal(await ask(url, 'lookup', lookup(99)), 500, 'an index outside the table fails in onnxruntime');
  const all = await stats(url);
  t.same(
    all.map((s) => [s.name, s.version]),
    [
      ['lookup', '1'],
      ['weather', '1'],
    ],
    'every served model version, by name',
  );
  const [l, w] = all as [ModelStat, ModelStat];
  t.match(l, { inference_count: 1, execution_count: 1 });
  t.match(l.inference_stats, { success: { count: 1 }, fail: { count: 1 } });
  t.match(w.inference_stats, { success: { count: 0 }, fail: { count: 0 } });

  // Statistics count since the server started: a reload keeps them.
  const reload = await fetch(`${url}/v2/repository/models/lookup/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  t.equal(reload.status, 200);
  t.equal(await ask(url, 'lookup', lookup(3)), 200);
  t.match(only(t, await stats(url, '/lookup')), {
    inference_count: 2,
    inference_stats: { success: { count: 2 }, fail: { count: 1 } },
  });
});

t.test('errors name the real problem', async (t) => {
  const url = await startServer(t);
  const cases: [string, string, number, RegExp][] = [
    ['GET', '/v2/models/nope/stats', 404, /Unknown model "nope"/],
    ['GET', '/v2/models/weather/versions/9/stats', 404, /Unknown version "9" of model "weather"/],
    ['POST', '/v2/models/stats', 405, /Method POST is not allowed on \/v2\/models\/stats/],
    ['DELETE', '/v2/models/weather/stats', 405, /not allowed/],
    ['GET', '/v2/models/stats/nothing', 404, /No route for GET \/v2\/models\/stats\/nothing/],
  ];
  for (const [method, path, status, message] of cases) {
    const res = await fetch(url + path, { method });
    t.equal(res.status, status, `${method} ${path}`);
    const body = (await res.json()) as { error: string };
    t.match(body.error, message, `${method} ${path}`);
    t.notMatch(body.error, /Unknown model "stats"/);
    if (status === 405) t.equal(res.headers.get('allow'), 'HEAD, GET');
  }
});
