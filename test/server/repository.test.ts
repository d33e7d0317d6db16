/**
 * Issue point 3: the model repository extension. Guarded by the admin token; a failed load keeps the served
 * version; a reload under load drops no request.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startServer, tempDir } from '../helpers.js';
import { copyWeather, lookupModel, LOOKUP_CONTRACT, writeModel } from './model-fixtures.js';
import { infer, metric, sleep } from './v2-client.js';

const TOKEN = 's3cret-token';

/** Resolves once `condition()` holds, checked every few milliseconds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}
const admin = { authorization: `Bearer ${TOKEN}` };
const ROW = { name: 'features', datatype: 'FP32', shape: [1, 6], data: [0.5, -0.2, 0.1, 0.3, 0.7, -0.7] };

async function post(url: string, path: string, headers: Record<string, string> = admin, body?: unknown) {
  const res = await fetch(`${url}/v2/repository${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

t.test('without a configured token the repository API is refused with 403', async (t) => {
  const url = await startServer(t);
  for (const path of ['/index', '/models/weather/load', '/models/weather/unload']) {
    const res = await post(url, path);
    t.equal(res.status, 403, path);
    t.match(res.body, { error: /disabled: no admin token is configured/ });
  }
  t.equal((await infer(url, 'weather', ROW)).status, 200, 'the model is still served');
});

t.test('a wrong or missing token gets 401; the right one lists the repository', async (t) => {
  const url = await startServer(t, { adminToken: TOKEN });
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: TOKEN }]) {
    const res = await post(url, '/index', headers);
    t.equal(res.status, 401);
    t.match(res.body, { error: /Authorization: Bearer/ });
    t.match(res.headers.get('www-authenticate'), /^Bearer/);
  }
  const index = await post(url, '/index');
  t.equal(index.status, 200);
  t.same(index.body, [{ name: 'weather', version: '1', state: 'READY', reason: '', contract: 'model.json' }]);
});

t.test('unload, index and load', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  await writeModel(repo, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  const url = await startServer(t, { models: repo, adminToken: TOKEN });
  const ask = () => infer(url, 'lookup', { name: 'i', datatype: 'INT64', shape: [1, 1], data: [2] });
  t.equal((await ask()).status, 200);

  t.same((await post(url, '/models/lookup/unload')).body, { name: 'lookup' });
  t.equal((await ask()).status, 404, 'an unloaded model is not served');
  t.equal((await fetch(`${url}/v2/models/lookup/ready`)).status, 404);
  t.same((await post(url, '/index')).body, [
    { name: 'lookup', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
    { name: 'weather', version: '1', state: 'READY', reason: '', contract: 'model.json' },
  ]);
  t.same((await post(url, '/index', admin, { ready: true })).body, [
    { name: 'weather', version: '1', state: 'READY', reason: '', contract: 'model.json' },
  ]);
  let text = await (await fetch(`${url}/metrics`)).text();
  t.equal(metric(text, 'model_info', 'model_name="lookup"'), 0, 'model_info forgets an unloaded model');

  const loaded = await post(url, '/models/lookup/load');
  t.equal(loaded.status, 200);
  t.same(loaded.body, { name: 'lookup', versions: ['1'] });
  t.same((await ask()).body.outputs?.[0]?.data, [40, 50]);
  text = await (await fetch(`${url}/metrics`)).text();
  t.match(text, /model_info\{model_name="lookup",model_version="1",model_sha256="[0-9a-f]{64}"\} 1/);

  t.equal((await post(url, '/models/nope/load')).status, 404);
  t.equal((await post(url, '/models/nope/unload')).status, 404);
  t.equal((await post(url, '/models/bad%20name/load')).status, 400);
  t.equal(
    (await post(url, '/models/lookup/load', admin, { parameters: { config: '{"version_policy": {}}' } }))
      .status,
    400,
  );
});

t.test('a load that fails keeps serving the loaded versions', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  const url = await startServer(t, { models: repo, adminToken: TOKEN });
  const v2 = join(repo, 'weather', '2');
  const contract = await import('node:fs/promises').then((fs) =>
    fs.readFile(join(repo, 'weather', '1', 'model.json'), 'utf8'),
  );

  await writeModel(repo, 'weather', 2, new Uint8Array([1, 2, 3]), '{ not json');
  let res = await post(url, '/models/weather/load');
  t.equal(res.status, 400);
  t.match(res.body, { error: /Failed to load model "weather".*model\.json.* is not valid JSON/ });

  await writeFile(join(v2, 'model.json'), contract);
  res = await post(url, '/models/weather/load');
  t.equal(res.status, 400);
  t.match(res.body, {
    error: /Cannot load version 2 of model "weather": model.onnx is not a valid ONNX model/,
  });

  const served = await infer(url, 'weather', ROW);
  t.equal(served.status, 200, 'version 1 is still served');
  t.equal(served.body.model_version, '1');
  const index = (await post(url, '/index')).body as { version: string; state: string; reason: string }[];
  t.match(index, [
    { version: '1', state: 'READY', reason: '', contract: 'model.json' },
    { version: '2', state: 'UNAVAILABLE', reason: /model.onnx is not a valid ONNX model/ },
  ]);
});

t.test('a reload under concurrent load drops no request', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  const url = await startServer(t, { models: repo, adminToken: TOKEN, workers: 2 });
  let stop = false;
  const statuses: number[] = [];
  const versions = new Set<string>();
  const client = async () => {
    while (!stop) {
      const res = await infer(url, 'weather', ROW);
      statuses.push(res.status);
      if (res.body.model_version !== undefined) versions.add(res.body.model_version);
    }
  };
  const clients = Array.from({ length: 8 }, client);
  // Each reload starts once the clients have had more answers, and the test stops once version 2 has
  // answered: counts of events, not sleeps, so a loaded machine cannot end the test before either happens.
  const answers = (n: number) => until(() => statuses.length >= n);
  for (let i = 0; i < 3; i++) {
    await answers(15 * (i + 1));
    t.equal((await post(url, '/models/weather/load')).status, 200, `reload ${i + 1}`);
  }
  // A new version appears: the next reload makes it the default.
  const { cp } = await import('node:fs/promises');
  await cp(join(repo, 'weather', '1'), join(repo, 'weather', '2'), { recursive: true });
  await answers(60);
  t.same((await post(url, '/models/weather/load')).body, { name: 'weather', versions: ['1', '2'] });
  await until(() => versions.has('2') || statuses.some((s) => s !== 200));
  stop = true;
  await Promise.all(clients);
  t.ok(statuses.length > 50, `${statuses.length} requests during the reloads`);
  t.same(
    statuses.filter((s) => s !== 200),
    [],
    'every request succeeded',
  );
  t.same([...versions].sort(), ['1', '2'], 'requests moved to the new latest version');
});
