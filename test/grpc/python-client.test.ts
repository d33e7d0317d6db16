/**
 * Issue #18's acceptance for gRPC, with a client nobody here wrote the protocol code of: Python's grpcio and
 * protobuf (Debian's python3-grpcio, python3-protobuf) with stubs that grpc_tools.protoc (python3-grpc-tools)
 * generates from the committed .proto files at test time, driven by test/grpc/oip_client.py. Against a real
 * `batch-infer serve`, its inference, metadata, config, statistics and repository calls must answer what the
 * REST routes answer, compared in protobuf's JSON mapping (64-bit integers as strings, default values left out).
 *
 * Where the two protocols differ on purpose, the test says so: gRPC's ModelMetadataResponse has no
 * `properties` (the batch-infer contract), the repository index no `contract`, and ModelReady answers
 * `ready: false` for a model that is not served (as Triton's gRPC endpoint does) where REST answers 404.
 *
 * Without those Debian packages the test is skipped on a developer's machine, and fails in CI (CI=true), which
 * must install them (docs/server-protocols.md).
 */
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { serveCli } from '../cli/spawn-cli.js';
import { tempDir } from '../helpers.js';

const exec = promisify(execFile);
const PYTHON =
  process.env.BATCH_INFER_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const PROTO_DIR = join(PACKAGE_ROOT, 'server', 'grpc', 'proto');
const CLIENT = join(PACKAGE_ROOT, 'test', 'grpc', 'oip_client.py');
const DEBIAN = 'python3-grpcio python3-protobuf python3-grpc-tools python3-numpy';
const TOKEN = 'grpc-admin-token';

async function pythonReady(): Promise<string | undefined> {
  try {
    await exec(PYTHON, ['-c', 'import grpc, grpc_tools.protoc, google.protobuf, numpy']);
    return undefined;
  } catch (err) {
    return `${PYTHON} cannot import grpc, grpc_tools, protobuf and numpy (apt-get install ${DEBIAN}): ${(err as Error).message.split('\n')[0] ?? ''}`;
  }
}

const missing = await pythonReady();

t.test(
  'a Python grpcio client gets the answers REST gives',
  { skip: missing !== undefined && process.env.CI !== 'true' ? missing : false },
  async (t) => {
    if (missing !== undefined) throw new Error(missing);
    const dir = await tempDir(t);
    const stubs = join(dir, 'stubs');
    await mkdir(stubs);
    await exec(PYTHON, [
      '-m',
      'grpc_tools.protoc',
      `-I${PROTO_DIR}`,
      `--python_out=${stubs}`,
      `--grpc_python_out=${stubs}`,
      'grpc_service.proto',
      'model_config.proto',
    ]);
    const repo = join(dir, 'models');
    await cp(join(PACKAGE_ROOT, 'models', 'weather'), join(repo, 'weather'), { recursive: true });
    const fixtures = join(PACKAGE_ROOT, 'test', 'fixtures', 'models');
    await cp(join(fixtures, 'titanic'), join(repo, 'titanic'), { recursive: true });
    const server = await serveCli(t, ['--models', repo, '--admin-token', TOKEN, '--workers', '1']);
    const grpc = /gRPC listening on ([\d.:]+)/.exec(server.stderr())?.[1];
    if (grpc === undefined) throw new Error(`no gRPC address in: ${server.stderr()}`);

    const rest = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(server.url + path, init);
      return { status: response.status, body: await response.json() };
    };
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      rest(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });

    const weather = (rows: number[][]) => ({
      inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 6], data: rows }],
    });
    const titanic = {
      id: 'two-passengers',
      inputs: [
        { name: 'pclass', datatype: 'INT64', shape: [2, 1], data: [3, 1] },
        { name: 'sex', datatype: 'BYTES', shape: [2, 1], data: ['male', 'female'] },
        { name: 'age', datatype: 'FP32', shape: [2, 1], data: [22, 38.5] },
        { name: 'sibsp', datatype: 'INT64', shape: [2, 1], data: [1, 0] },
        { name: 'fare', datatype: 'FP32', shape: [2, 1], data: [7.25, 71.2833] },
        { name: 'embarked', datatype: 'BYTES', shape: [2, 1], data: ['S', 'Ç'] },
      ],
    };
    const cases = [
      {
        model: 'weather',
        body: weather([
          [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
          [1.5, -2, 3.25, 0, 7, -0.125],
          [10, 20, 30, 40, 50, 60],
        ]),
      },
      { model: 'titanic', body: titanic },
      { model: 'titanic', body: { ...titanic, outputs: [{ name: 'output_probability' }] } },
      // Refused alike: a shape the model does not take, and an input left out.
      {
        model: 'weather',
        body: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] },
      },
      { model: 'titanic', body: { inputs: titanic.inputs.slice(1) } },
    ];
    // REST first: the statistics the Python client reads later count these requests and its own.
    const restInfer = [];
    for (const c of cases) restInfer.push(await post(`/v2/models/${c.model}/infer`, c.body));

    const plan = { models: ['weather', 'titanic'], infer: cases, reload: 'titanic' };
    const answers = await runClient(stubs, grpc, plan);

    t.same(answers.live, { ok: { live: true } }, 'ServerLive');
    t.same(answers.live.ok, (await rest('/v2/health/live')).body, 'ServerLive = GET /v2/health/live');
    t.same(answers.ready.ok, (await rest('/v2/health/ready')).body, 'ServerReady = GET /v2/health/ready');
    t.same(
      protoJson(answers.server_metadata.ok),
      protoJson((await rest('/v2')).body),
      'ServerMetadata = GET /v2',
    );
    for (const model of plan.models) {
      const { metadata, ready, config } = answers.models[model] as Record<string, { ok: unknown }>;
      const restMetadata = (await rest(`/v2/models/${model}`)).body as Record<string, unknown>;
      // ModelMetadataResponse has no `properties` (the batch-infer contract): the REST answer less those.
      const { properties, ...portable } = restMetadata;
      t.ok(properties, `${model}: REST metadata carries the contract in properties`);
      t.same(
        protoJson(metadata?.ok),
        protoJson(portable),
        `${model}: ModelMetadata = REST metadata less properties`,
      );
      t.same(ready?.ok, { ready: true }, `${model}: ModelReady`);
      t.same(
        protoJson((config?.ok as { config: unknown }).config),
        protoJson((await rest(`/v2/models/${model}/config`)).body),
        `${model}: ModelConfig = GET …/config`,
      );
    }

    for (const [i, c] of cases.entries()) {
      const expected = restInfer[i] as { status: number; body: Record<string, unknown> };
      for (const kind of ['raw', 'contents'] as const) {
        const got = answers.infer[i]?.[kind] as {
          ok?: Record<string, unknown>;
          code?: string;
          details?: string;
        };
        const name = `${c.model} request ${i} (${kind === 'raw' ? 'raw_input_contents' : 'typed contents'})`;
        if (expected.status === 200) {
          t.same(got.ok, restAnswer(expected.body), `${name}: ModelInfer = REST inference`);
        } else {
          t.equal(expected.status, 400, `${name}: REST refuses it`);
          t.same(
            { code: got.code, details: got.details },
            { code: 'INVALID_ARGUMENT', details: (expected.body as { error: string }).error },
            `${name}: INVALID_ARGUMENT with REST's message`,
          );
        }
      }
    }

    t.same(
      protoJson(answers.statistics.ok),
      protoJson((await rest('/v2/models/stats')).body),
      'ModelStatistics = GET /v2/models/stats',
    );
    for (const model of plan.models)
      t.same(
        protoJson((answers.model_statistics[model] as { ok: unknown }).ok),
        protoJson((await rest(`/v2/models/${model}/stats`)).body),
        `${model}: ModelStatistics = GET …/stats`,
      );

    const unknown = await rest('/v2/models/no-such-model');
    t.same(
      answers.unknown_model.metadata,
      { code: 'NOT_FOUND', details: (unknown.body as { error: string }).error },
      "an unknown model: NOT_FOUND with REST's 404 message",
    );
    t.same(answers.unknown_model.ready, { ok: {} }, 'an unknown model is not ready (ready: false, left out)');
    t.equal(answers.index_without_token.code, 'UNAUTHENTICATED', 'the repository wants the admin token');

    t.same(answers.unload, { ok: {} }, 'RepositoryModelUnload');
    t.same(answers.ready_after_unload, { ok: {} }, 'an unloaded model is not ready');
    const unloaded = (answers.index_after_unload.ok as { models: Record<string, string>[] }).models;
    t.same(
      unloaded.find((m) => m.name === 'titanic'),
      { name: 'titanic', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
      'the index says why',
    );
    t.same(answers.load, { ok: {} }, 'RepositoryModelLoad');
    t.same(answers.ready_after_load, { ok: { ready: true } }, 'a loaded model is ready');
    const index = await post('/v2/repository/index', {}, { authorization: `Bearer ${TOKEN}` });
    t.same(
      protoJson(answers.index.ok),
      // The index has no `contract` field in gRPC; the REST rows less theirs.
      protoJson({ models: (index.body as Record<string, unknown>[]).map(({ contract: _, ...row }) => row) }),
      'RepositoryIndex = POST /v2/repository/index',
    );
  },
);

interface Answers {
  live: { ok: unknown };
  ready: { ok: unknown };
  server_metadata: { ok: unknown };
  models: Record<string, unknown>;
  infer: Record<'raw' | 'contents', unknown>[];
  statistics: { ok: unknown };
  model_statistics: Record<string, unknown>;
  unknown_model: { metadata: unknown; ready: unknown };
  index_without_token: { code?: string };
  unload: unknown;
  ready_after_unload: unknown;
  index_after_unload: { ok: unknown };
  load: unknown;
  ready_after_load: unknown;
  index: { ok: unknown };
}

/** Runs oip_client.py with the plan on stdin; resolves with its answers. */
function runClient(stubs: string, grpc: string, plan: unknown): Promise<Answers> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [CLIENT, stubs, grpc, TOKEN], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as Answers);
      else reject(new Error(`oip_client.py exited ${code}: ${stderr}`));
    });
    child.stdin.end(JSON.stringify(plan));
  });
}

/** Enum fields whose value in these answers is the enum's first (zero) value, which the JSON mapping leaves out. */
const ZERO_ENUMS: Readonly<Record<string, string>> = { timeout_action: 'REJECT' };

/**
 * A JSON answer as protobuf's JSON mapping shows it, so that REST and gRPC answers compare: 64-bit integers
 * (strings there) and every other number as numbers, and default values (false, 0, "", empty lists, an enum's
 * zero value) left out.
 */
function protoJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(protoJson);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const n = protoJson(v);
    const empty =
      n === false ||
      n === 0 ||
      n === '' ||
      n === null ||
      (Array.isArray(n) && n.length === 0) ||
      ZERO_ENUMS[key] === n;
    if (!empty) out[key] = n;
  }
  return out;
}

/** A REST inference answer as the Python client reports one: FP32 values as the float32 they are. */
function restAnswer(body: Record<string, unknown>): Record<string, unknown> {
  const outputs = body.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
  return {
    model_name: body.model_name,
    model_version: body.model_version,
    id: body.id ?? '',
    outputs: outputs.map((o) => ({
      ...o,
      data: o.datatype === 'FP32' ? (o.data as number[]).map((v) => Math.fround(v)) : o.data,
    })),
  };
}
