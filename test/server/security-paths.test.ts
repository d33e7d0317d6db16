/**
 * Model names and versions in paths (issue #10 point 6): `..`, `%2e%2e`, encoded slashes and backslashes,
 * absolute paths and NUL bytes are refused with 400 on every route that takes a name or a version, a valid
 * model lying next to the repository cannot be loaded through them, and no answer (not even a failed load's)
 * shows a path of the host or a stack.
 */
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { startServer, tempDir } from '../helpers.js';
import { copyWeather, lookupModel, LOOKUP_CONTRACT, writeModel } from './model-fixtures.js';
import { leakIn, problemWith, send } from './fuzz-client.js';

const ADMIN = 'admin-s3cret';
const admin = { authorization: `Bearer ${ADMIN}` };

const BAD_NAMES = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '%2e.',
  '..%2f..%2fetc%2fpasswd',
  '..%2F..%2Foutside',
  '..%5c..%5coutside',
  '%2fetc%2fpasswd',
  '%2Fvar%2Flib',
  'C:%5cWindows',
  '%00',
  'weather%00',
  'weather%00.json',
  '%252e%252e',
  '%E0%A4%A',
  '-rf',
  '.hidden',
  '~root',
];

/** Every route with a model name or a version in its path. */
function routes(name: string): [string, string][] {
  return [
    ['GET', `/v2/models/${name}`],
    ['GET', `/v2/models/${name}/ready`],
    ['POST', `/v2/models/${name}/infer`],
    ['GET', `/v2/models/${name}/versions/1`],
    ['GET', `/v2/models/${name}/versions/1/ready`],
    ['POST', `/v2/models/${name}/versions/1/infer`],
    ['GET', `/v2/models/weather/versions/${name}`],
    ['GET', `/v2/models/weather/versions/${name}/ready`],
    ['POST', `/v2/models/weather/versions/${name}/infer`],
    ['POST', `/v2/repository/models/${name}/load`],
    ['POST', `/v2/repository/models/${name}/unload`],
  ];
}

t.test('traversal, absolute paths and NUL bytes are refused on every route with a model name', async (t) => {
  // A valid model right next to the repository: what a traversal would reach.
  const root = await tempDir(t);
  const models = join(root, 'repo');
  await copyWeather(models);
  await writeModel(root, 'outside', 1, lookupModel(), LOOKUP_CONTRACT('outside'));
  const url = await startServer(t, { models, adminToken: ADMIN, workers: 1 });
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  for (const name of BAD_NAMES) {
    for (const [method, path] of routes(name)) {
      const answer = await send(url, agent, { method, path, headers: admin });
      t.equal(answer.status, 400, `${method} ${path}: 400`);
      t.equal(problemWith(answer, false, [root]), undefined, `${method} ${path}: a plain {"error"}`);
    }
  }
  t.equal((await send(url, agent, { path: '/v2/models/outside', headers: admin })).status, 404);
  const index = await send(url, agent, { method: 'POST', path: '/v2/repository/index', headers: admin });
  t.same(
    (JSON.parse(index.text) as { name: string }[]).map((e) => e.name),
    ['weather'],
    'nothing outside the repository was loaded',
  );
  // The router never resolves dot segments, so unencoded ones match no route at all.
  const raw = await send(url, agent, { method: 'POST', path: '/v2/models/weather/../../outside/infer' });
  t.equal(raw.status, 404);
});

t.test('error answers never show a host path or a stack', async (t) => {
  const models = await tempDir(t);
  await copyWeather(models);
  // A model whose model.json is broken: loading it fails with a message about the file.
  await mkdir(join(models, 'broken', '1'), { recursive: true });
  await writeFile(join(models, 'broken', '1', 'model.json'), '{not json');
  await writeFile(join(models, 'broken', '1', 'model.onnx'), 'not onnx');
  // And one whose run fails inside onnxruntime (an index out of its table): a 500.
  await writeModel(models, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  const url = await startServer(t, { models, adminToken: ADMIN, workers: 1 });
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const answers = [
    await send(url, agent, { method: 'POST', path: '/v2/repository/models/broken/load', headers: admin }),
    await send(url, agent, { method: 'POST', path: '/v2/repository/models/absent/load', headers: admin }),
    await send(url, agent, {
      method: 'POST',
      path: '/v2/models/lookup/infer',
      body: JSON.stringify({ inputs: [{ name: 'i', datatype: 'INT64', shape: [1, 1], data: [99] }] }),
    }),
  ];
  t.same(
    answers.map((a) => a.status),
    [400, 404, 500],
  );
  for (const answer of answers) {
    t.equal(leakIn(answer.text, [models]), undefined, `no host path or stack: ${answer.text}`);
  }
  t.match(answers[0]?.text, /broken/, 'the failed load still names the model');
  t.match(answers[2]?.text, /^\{"error":"Internal server error"\}$/, 'a 500 says only that');
});
