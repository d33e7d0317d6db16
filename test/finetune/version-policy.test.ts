/**
 * Issue #9: adding models/weather/2 changes nothing by default. The version policy (models/weather/config.json)
 * keeps v1 the version served and answering, on the server and in process; a repository load with a config
 * override stages v2 beside it, promotes it and rolls it back, each an atomic reload.
 */
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  BUNDLED_MODELS_DIR,
  listVersions,
  parseModelConfig,
  readModelVersion,
  selectVersions,
} from '../../lib/model-files.js';
import { fetchContract } from '../../lib/model-source.js';
import { startServer, tempDir } from '../helpers.js';
import { infer } from '../server/v2-client.js';
import { load, ROW, served } from './admin-client.js';

const TOKEN = 'policy-token';

t.test('config.json: Triton version policies, a default version, everything else refused', (t) => {
  t.same(
    selectVersions('m', {}, [1, 2, 3]),
    { versions: [1, 2, 3], defaultVersion: 3 },
    'default: all, latest',
  );
  t.same(
    selectVersions(
      'm',
      parseModelConfig({ version_policy: { latest: { num_versions: 2 } } }, 'c'),
      [1, 2, 3],
    ),
    {
      versions: [2, 3],
      defaultVersion: 3,
    },
  );
  t.same(
    selectVersions(
      'm',
      parseModelConfig({ version_policy: { specific: { versions: [3, 1, 1] } }, default_version: 1 }, 'c'),
      [1, 2, 3],
    ),
    { versions: [1, 3], defaultVersion: 1 },
  );
  for (const [config, error] of [
    [{ version_policy: { specific: { versions: ['../1'] } } }, /version_policy/],
    [{ version_policy: { specific: { versions: [0] } } }, /version_policy/],
    [{ version_policy: { all: {}, latest: { num_versions: 1 } } }, /version_policy/],
    [{ version_policy: { latest: { num_versions: 1.5 } } }, /version_policy/],
    [{ default_version: '2' }, /default_version/],
    [{ max_batch_size: 8 }, /unknown key "max_batch_size"/],
    [[], /must be a JSON object/],
  ] as const) {
    t.throws(
      () => parseModelConfig(config, 'c'),
      { code: 'BI_ERR_MODEL_CONTRACT', message: error },
      JSON.stringify(config),
    );
  }
  t.throws(() => selectVersions('m', { version_policy: { specific: { versions: [4] } } }, [1, 2]), {
    code: 'BI_ERR_MODEL_CONTRACT',
    message: /names version\(s\) 4, not in the repository/,
  });
  t.throws(
    () =>
      selectVersions('m', { version_policy: { latest: { num_versions: 1 } }, default_version: 1 }, [1, 2]),
    {
      code: 'BI_ERR_MODEL_CONTRACT',
      message: /default_version 1 is not one of the served versions \(2\)/,
    },
  );
  t.end();
});

t.test('in process: v1 stays the default, v2 is there when named', async (t) => {
  t.same(await listVersions(BUNDLED_MODELS_DIR, 'weather'), [1, 2]);
  t.equal((await readModelVersion(BUNDLED_MODELS_DIR, 'weather')).version, 1);
  const v2 = await readModelVersion(BUNDLED_MODELS_DIR, 'weather', 2);
  t.equal(v2.version, 2);
  t.match(v2.contract.training, { base_model: { name: 'weather', version: 1 } });

  const repo = await tempDir(t);
  await cp(join(BUNDLED_MODELS_DIR, 'weather'), join(repo, 'weather'), { recursive: true });
  await writeFile(join(repo, 'weather', 'config.json'), '{"default_version": 2}');
  t.equal((await readModelVersion(repo, 'weather')).version, 2, 'config.json names the default');
  await writeFile(join(repo, 'weather', 'config.json'), '{"default_version": 3}');
  await t.rejects(readModelVersion(repo, 'weather'), { code: 'BI_ERR_MODEL_CONTRACT' });
});

t.test('the bundled repository serves v1 only, as before v2 existed', async (t) => {
  const url = await startServer(t, { adminToken: TOKEN });
  t.same(await served(url), { versions: ['1'], answers: '1' });
  t.equal((await infer(url, 'weather/versions/2', ROW)).status, 404, 'v2 is not served until loaded');
  const index = await (
    await fetch(`${url}/v2/repository/index`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
  ).json();
  t.same(
    index,
    [{ name: 'weather', version: '1', state: 'READY', reason: '', contract: 'model.json' }],
    'the index lists what the policy selects',
  );
});

t.test(
  'a config override stages, promotes and rolls back; a plain load reads config.json again',
  async (t) => {
    const url = await startServer(t, { adminToken: TOKEN });
    const both = { specific: { versions: [1, 2] } };

    t.equal((await load(url, TOKEN, { version_policy: both, default_version: 1 })).status, 200);
    t.same(
      await served(url),
      { versions: ['1', '2'], answers: '1' },
      'staged: v2 served by name, v1 answers',
    );
    t.equal((await infer(url, 'weather/versions/2', ROW)).body.model_version, '2');
    t.equal(
      (await fetchContract(url, 'weather')).version,
      1,
      'a client records the version that answers, not the latest served',
    );

    const promoted = await load(url, TOKEN, { version_policy: both, default_version: 2 });
    t.same(promoted.body, { name: 'weather', versions: ['1', '2'] });
    t.same(await served(url), { versions: ['1', '2'], answers: '2' }, 'promoted');

    t.equal((await load(url, TOKEN)).status, 200);
    t.same(
      await served(url),
      { versions: ['1'], answers: '1' },
      'a load without override: config.json again',
    );
  },
);

t.test('a bad config override is refused with 400 and changes nothing', async (t) => {
  const url = await startServer(t, { adminToken: TOKEN });
  await load(url, TOKEN, { version_policy: { specific: { versions: [1, 2] } }, default_version: 1 });
  for (const [config, error] of [
    ['{ not json', /not valid JSON/],
    [{ version_policy: { specific: { versions: [1, 3] } } }, /names version\(s\) 3, not in the repository/],
    [{ version_policy: { specific: { versions: ['../../etc'] } } }, /version_policy/],
    [{ default_version: 7 }, /default_version 7 is not one of the served versions/],
    [{ dynamic_batching: {} }, /unknown key "dynamic_batching"/],
  ] as const) {
    const res = await load(url, TOKEN, config);
    t.equal(res.status, 400, JSON.stringify(config));
    t.match(res.body.error, error);
  }
  const other = await fetch(`${url}/v2/repository/models/weather/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ parameters: { 'file:1/model.onnx': 'AAAA' } }),
  });
  t.equal(other.status, 400, 'model files in the request are not accepted');
  t.same(await served(url), { versions: ['1', '2'], answers: '1' }, 'still as staged');
});

t.test('promotion under concurrent requests drops none, and moves unversioned requests to v2', async (t) => {
  const url = await startServer(t, { adminToken: TOKEN, workers: 2 });
  const both = { specific: { versions: [1, 2] } };
  t.equal((await load(url, TOKEN, { version_policy: both, default_version: 1 })).status, 200);
  let stop = false;
  const statuses: number[] = [];
  // Per client, the versions that answered its requests, in order: a client waits for each answer.
  const answered: string[][] = [];
  const client = async (): Promise<void> => {
    const mine: string[] = [];
    answered.push(mine);
    while (!stop) {
      const res = await infer(url, 'weather', ROW);
      statuses.push(res.status);
      mine.push(res.body.model_version ?? '');
    }
  };
  const clients = Array.from({ length: 6 }, client);
  const yieldOnce = () => new Promise((resolve) => setImmediate(resolve));
  // Conditions, not time: requests are flowing before the promotion (every client has had an answer, from v1:
  // 20 answers in all could come from five clients while a sixth waits on a loaded machine), and v2 has
  // answered every client before the end.
  while (statuses.length < 20 || answered.some((versions) => versions.length === 0)) await yieldOnce();
  t.equal((await load(url, TOKEN, { version_policy: both, default_version: 2 })).status, 200);
  while (!answered.every((versions) => versions.includes('2'))) await yieldOnce();
  stop = true;
  await Promise.all(clients);
  t.same(
    statuses.filter((s) => s !== 200),
    [],
    `all ${statuses.length} requests succeeded`,
  );
  for (const versions of answered) {
    const first2 = versions.indexOf('2');
    t.ok(
      first2 > 0 && versions.slice(first2).every((v) => v === '2'),
      'a client moved from v1 to v2 for good',
    );
  }
});
