/**
 * Issue #18: Triton's model configuration extension, `GET /v2/models/{m}[/versions/{v}]/config`, in Triton's
 * JSON form of ModelConfig, built from the served contract, the server's batching options and the version
 * policy in effect.
 */
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startServer, tempDir } from '../helpers.js';
import type { ModelContract } from '../../lib/core/model-contract.js';
import { modelConfig } from '../../server/v2/config.js';
import type { ServedModel } from '../../server/served-model.js';
import { copyWeather, lookupModel, LOOKUP_CONTRACT, writeModel } from './model-fixtures.js';

const TOKEN = 'config-token';

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

t.test('the weather model: batch dim left out of dims, dynamic batching from the options', async (t) => {
  const url = await startServer(t, { workers: 2, maxQueueDelayMs: 5, maxQueueSize: 64 });
  const expected = {
    name: 'weather',
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    // models/weather/config.json serves version 1 only.
    version_policy: { specific: { versions: [1] } },
    max_batch_size: 256,
    input: [{ name: 'features', data_type: 'TYPE_FP32', dims: [6] }],
    output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [5] }],
    dynamic_batching: {
      max_queue_delay_microseconds: 5000,
      preserve_ordering: false,
      default_queue_policy: {
        timeout_action: 'REJECT',
        default_timeout_microseconds: 30_000_000,
        allow_timeout_override: false,
        max_queue_size: 64,
      },
    },
    instance_group: [{ kind: 'KIND_CPU', count: 2 }],
    default_model_filename: 'model.onnx',
    parameters: { default_version: { string_value: '1' } },
  };
  for (const path of ['/v2/models/weather/config', '/v2/models/weather/versions/1/config']) {
    const res = await getJson(url + path);
    t.equal(res.status, 200, path);
    t.same(res.body, expected, path);
  }
  const server = await getJson(`${url}/v2`);
  t.ok((server.body.extensions as string[]).includes('model_configuration'), 'listed in server metadata');
});

t.test('unknown models and versions are 404 naming them', async (t) => {
  const url = await startServer(t);
  const cases: [string, RegExp][] = [
    ['/v2/models/nope/config', /Unknown model "nope"/],
    ['/v2/models/weather/versions/9/config', /Unknown version "9" of model "weather"/],
  ];
  for (const [path, message] of cases) {
    const res = await getJson(url + path);
    t.equal(res.status, 404, path);
    t.match(res.body, { error: message });
  }
});

t.test('with dynamic batching off, max_batch_size is 0 and dims keep the batch dim', async (t) => {
  const url = await startServer(t, { maxBatchSize: 0 });
  const { body } = await getJson(`${url}/v2/models/weather/config`);
  t.equal(body.max_batch_size, 0);
  t.same(body.input, [{ name: 'features', data_type: 'TYPE_FP32', dims: [-1, 6] }]);
  t.same(body.output, [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [-1, 5] }]);
  t.equal(body.dynamic_batching, undefined, 'no dynamic_batching without batching');
});

t.test('version_policy and default_version follow the config in effect', async (t) => {
  const repo = await tempDir(t);
  await copyWeather(repo);
  await cp(join(repo, 'weather', '1'), join(repo, 'weather', '2'), { recursive: true });
  await writeModel(repo, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  await writeFile(
    join(repo, 'weather', 'config.json'),
    JSON.stringify({ version_policy: { latest: { num_versions: 2 } }, default_version: 1 }),
  );
  const url = await startServer(t, { models: repo, adminToken: TOKEN });
  const config = async (model: string) => (await getJson(`${url}/v2/models/${model}/config`)).body;

  t.match(await config('weather'), {
    version_policy: { latest: { num_versions: 2 } },
    parameters: { default_version: { string_value: '1' } },
  });
  // No config.json: every version, the latest answering.
  t.match(await config('lookup'), {
    version_policy: { all: {} },
    parameters: { default_version: { string_value: '1' } },
    input: [{ name: 'i', data_type: 'TYPE_INT64', dims: [1] }],
    output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1, 2] }],
  });

  // A load's config override is the config in effect until the next plain load.
  const load = await fetch(`${url}/v2/repository/models/weather/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      parameters: { config: JSON.stringify({ version_policy: { specific: { versions: [2] } } }) },
    }),
  });
  t.equal(load.status, 200);
  t.match(await config('weather'), {
    version_policy: { specific: { versions: [2] } },
    parameters: { default_version: { string_value: '2' } },
  });
  t.equal((await fetch(`${url}/v2/models/weather/versions/1/config`)).status, 404, 'v1 is no longer served');

  // config.json changed on disk but not loaded: the answer is what is served, not what the file says.
  await writeFile(
    join(repo, 'weather', 'config.json'),
    JSON.stringify({ version_policy: { specific: { versions: [1] } } }),
  );
  await fetch(`${url}/v2/repository/models/weather/unload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  await fetch(`${url}/v2/repository/models/weather/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  t.match(await config('weather'), { version_policy: { specific: { versions: [1] } } });
  await writeFile(join(repo, 'weather', 'config.json'), JSON.stringify({ version_policy: { all: {} } }));
  t.match(
    await config('weather'),
    { version_policy: { specific: { versions: [1] } } },
    'a config.json edited since the load does not describe the served versions',
  );
});

/** A served model with the given tensors, for the pure builder. */
function served(inputs: ModelContract['inputs'], outputs: ModelContract['outputs']): ServedModel {
  const contract = {
    format: 1,
    name: 'm',
    platform: 'onnxruntime_onnx',
    inputs,
    outputs,
    labels: [],
    features: [],
  } as ModelContract;
  return {
    name: 'm',
    version: 3,
    contract,
    engine: { infer: () => Promise.resolve([]), close: async () => {} },
  };
}

const OPTIONS = { maxBatchSize: 8, maxQueueDelayMs: 0, maxQueueSize: 4, requestTimeoutMs: 1000, workers: 1 };
const POLICY = { policy: { all: {} }, defaultVersion: 3 } as const;

t.test('datatypes map to Triton TYPE_* names; a batch-only tensor is dims [1] reshaped to []', async (t) => {
  const config = modelConfig(
    served(
      [
        { name: 'text', datatype: 'BYTES', shape: [-1, 1] },
        { name: 'flag', datatype: 'BOOL', shape: [-1, 3] },
        { name: 'half', datatype: 'FP16', shape: [-1, 2, -1] },
      ],
      [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'score', datatype: 'FP64', shape: [-1, 2] },
      ],
    ),
    OPTIONS,
    POLICY,
  );
  t.equal(config.max_batch_size, 8);
  t.same(config.input, [
    { name: 'text', data_type: 'TYPE_STRING', dims: [1] },
    { name: 'flag', data_type: 'TYPE_BOOL', dims: [3] },
    { name: 'half', data_type: 'TYPE_FP16', dims: [2, -1] },
  ]);
  t.same(config.output, [
    { name: 'label', data_type: 'TYPE_INT64', dims: [1], reshape: { shape: [] } },
    { name: 'score', data_type: 'TYPE_FP64', dims: [2] },
  ]);
  t.same(config.dynamic_batching?.max_queue_delay_microseconds, 0);
});

t.test('a model whose first dim is not the batch for every tensor has max_batch_size 0', async (t) => {
  const config = modelConfig(
    served(
      [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
      [{ name: 'y', datatype: 'UINT8', shape: [-1, 2] }],
    ),
    OPTIONS,
    POLICY,
  );
  t.equal(config.max_batch_size, 0);
  t.same(config.input, [{ name: 'x', data_type: 'TYPE_FP32', dims: [1, 4] }]);
  t.same(config.output, [{ name: 'y', data_type: 'TYPE_UINT8', dims: [-1, 2] }]);
  t.notOk('dynamic_batching' in config);
  t.same(config.version_policy, { all: {} });
  t.same(config.parameters, { default_version: { string_value: '3' } });
});
