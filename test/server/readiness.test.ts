/**
 * Issue #18: readiness. `/v2/health/ready` (and SageMaker's `/ping`) is 200 while every model meant to be served
 * is served. A model unloaded through the repository API is no longer meant to be; a model whose load failed
 * is, until a load succeeds or it is unloaded. Not ready while the repository loads, with no model served, and
 * from the start of shutdown.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { listen } from '../../bin/cli/listen.js';
import { createModelServer } from '../../server/index.js';
import { startServer, tempDir } from '../helpers.js';
import { copyWeather, lookupModel, LOOKUP_CONTRACT, writeModel } from './model-fixtures.js';

const TOKEN = 'ready-token';

async function ready(url: string): Promise<number> {
  const res = await fetch(`${url}/v2/health/ready`);
  const body = (await res.json()) as { ready: boolean };
  if (body.ready !== (res.status === 200))
    throw new Error(`status ${res.status} with ${JSON.stringify(body)}`);
  return res.status;
}

async function admin(url: string, path: string): Promise<number> {
  const res = await fetch(`${url}/v2/repository${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  await res.arrayBuffer();
  return res.status;
}

t.test('unloading one of two models leaves the server ready; unloading both does not', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  await writeModel(repo, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  const url = await startServer(t, { models: repo, adminToken: TOKEN });
  t.equal(await ready(url), 200);

  t.equal(await admin(url, '/models/lookup/unload'), 200);
  t.equal(await ready(url), 200, 'an unloaded model no longer counts');
  t.equal((await fetch(`${url}/ping`)).status, 200, 'SageMaker /ping follows');

  t.equal(await admin(url, '/models/weather/unload'), 200);
  t.equal(await ready(url), 400, 'no model served');
  t.equal((await fetch(`${url}/ping`)).status, 503);

  t.equal(await admin(url, '/models/lookup/load'), 200);
  t.equal(await ready(url), 200, 'ready again once a model is served');
  t.equal(await admin(url, '/models/nope/load'), 404);
  t.equal(await ready(url), 200, 'a load of a model not in the repository asks for nothing');
});

t.test('a model that failed to load keeps the server not ready until it loads or is unloaded', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  // Its model.onnx is not an ONNX model.
  await writeModel(repo, 'broken', 1, new Uint8Array([1, 2, 3]), LOOKUP_CONTRACT('broken'));
  const url = await startServer(t, { models: repo, adminToken: TOKEN });
  t.equal(
    (await fetch(`${url}/v2/models/weather/ready`)).status,
    200,
    'the other model is served and ready itself',
  );
  t.equal(await ready(url), 400, 'but a model meant to be served is not');

  t.equal(await admin(url, '/models/broken/load'), 400, 'still broken');
  t.equal(await ready(url), 400);

  await writeModel(repo, 'broken', 1, lookupModel(), LOOKUP_CONTRACT('broken'));
  t.equal(await admin(url, '/models/broken/load'), 200, 'fixed and loaded');
  t.equal(await ready(url), 200);

  await writeModel(repo, 'broken', 1, new Uint8Array([1, 2, 3]), LOOKUP_CONTRACT('broken'));
  t.equal(await admin(url, '/models/broken/load'), 400, 'a failed reload…');
  t.equal(await ready(url), 200, '…leaves the loaded version serving, so the server stays ready');

  t.equal(await admin(url, '/models/broken/unload'), 200);
  t.equal(await admin(url, '/models/broken/load'), 400, 'broken again, and not served at all');
  t.equal(await ready(url), 400);
  t.equal(await admin(url, '/models/broken/unload'), 200);
  t.equal(await ready(url), 200, 'unloaded on purpose: no longer meant to be served');
});

t.test('not ready while the repository loads and from the start of shutdown', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  await writeFile(join(repo, 'weather', 'config.json'), '{}');
  const server = createModelServer({ models: repo });
  const listening = await listen(server, 0, '127.0.0.1');
  t.teardown(() => listening.close());
  // The repository loads in the background; until it is done the server is not ready. An answer received while
  // `loaded` is still pending was given while loading.
  const state = { loaded: false };
  void server.loaded.then(() => (state.loaded = true));
  const early = await ready(listening.url);
  if (!state.loaded) t.equal(early, 400, 'not ready while loading');
  else t.comment('the repository loaded before the first probe');
  await server.loaded;
  t.equal(await ready(listening.url), 200);

  const closing = server.close({ graceMs: 1000 });
  t.equal(await ready(listening.url), 400, 'not ready once shutdown begins');
  await closing;
});
