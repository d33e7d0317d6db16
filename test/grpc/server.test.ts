/**
 * The gRPC service (server/grpc/server.ts) with a grpc-js client: what it shares with REST — tokens, refusals
 * and their messages, deadlines, shutdown, metrics — and the health service. python-client.test.ts compares
 * every answer with REST's using a client of another implementation.
 */
import t, { type Test } from 'tap';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { createGrpcScorer } from '../../lib/adapters/grpc-scorer.js';
import { isBatchInferError } from '../../lib/errors.js';
import { listen } from '../../bin/cli/listen.js';
import { createModelServer, type ModelServerOptions } from '../../server/index.js';
import { TRITON_GRPC_DESCRIPTOR } from '../../server/grpc/descriptor.js';
import { holdRuns } from '../server/run-gate.js';
import { startServers } from './servers.js';

const loaded = loadPackageDefinition(
  fromJSON(TRITON_GRPC_DESCRIPTOR, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  }),
);
const Inference = (loaded.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
const Health = (((loaded.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject)
  .Health as ServiceClientConstructor;

type Answer = { ok: Record<string, unknown> } | { code: status; details: string };
type Rpc = (request: object, options?: { token?: string; deadlineMs?: number }) => Promise<Answer>;

/** A client of a service whose RPCs resolve with `{ok}` or `{code, details}`; closed when the test ends. */
function connect(t: Test, Service: ServiceClientConstructor, address: string): Record<string, Rpc> {
  // A connection of its own, not one shared with the test's other clients of the same address.
  const client = new Service(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  t.teardown(() => client.close());
  const rpc =
    (method: string): Rpc =>
    (request, options = {}) =>
      new Promise((resolve) => {
        const metadata = new Metadata();
        if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
        const call = (client as unknown as Record<string, (...args: unknown[]) => void>)[method];
        call?.call(
          client,
          request,
          metadata,
          options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs },
          (err: ServiceError | null, response: Record<string, unknown>) =>
            resolve(err === null ? { ok: response } : { code: err.code, details: err.details }),
        );
      });
  return new Proxy({}, { get: (_, method: string) => rpc(method) });
}

const FEATURES = 6;
const rawRows = (rows: number) => Buffer.from(new Float32Array(rows * FEATURES).fill(0.5).buffer);
const inferRequest = (rows: number, extra: object = {}) => ({
  model_name: 'weather',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, FEATURES] }],
  raw_input_contents: [rawRows(rows)],
  ...extra,
});

t.test('metadata, inference and health answer as REST does', async (t) => {
  const servers = await startServers(t);
  const grpc = connect(t, Inference, servers.grpc);
  const metadata = await grpc.ModelMetadata!({ name: 'weather' });
  t.same(
    'ok' in metadata ? metadata.ok : metadata,
    await (await fetch(`${servers.url}/v2/models/weather`)).json(),
    'ModelMetadata = REST metadata, properties (the contract) included',
  );
  const rest = await (
    await fetch(`${servers.url}/v2/models/weather/infer`, {
      method: 'POST',
      body: JSON.stringify({
        id: 'x',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [2, FEATURES], data: Array(12).fill(0.5) }],
        parameters: { binary_data_output: true },
      }),
    })
  ).arrayBuffer();
  const answer = await grpc.ModelInfer!(inferRequest(2, { id: 'x' }));
  if (!('ok' in answer)) throw new Error(answer.details);
  t.match(answer.ok, {
    model_name: 'weather',
    model_version: '1',
    id: 'x',
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [2, 5] }],
  });
  const raw = (answer.ok.raw_output_contents as Buffer[])[0] as Buffer;
  t.ok(Buffer.from(rest).subarray(-raw.length).equals(raw), 'the same bytes as REST binary output');

  const health = connect(t, Health, servers.grpc);
  t.same(await health.Check!({ service: '' }), { ok: { status: 'SERVING' } }, 'health: the server');
  t.same(await health.Check!({ service: 'live' }), { ok: { status: 'SERVING' } }, 'health: live');
  t.match(
    await health.Check!({ service: 'other' }),
    { code: status.NOT_FOUND },
    'health: an unknown service',
  );

  const metrics = await (await fetch(`${servers.url}/metrics`)).text();
  t.match(
    metrics,
    /rpc_server_duration_seconds_count\{rpc_system="grpc",rpc_service="inference.GRPCInferenceService",rpc_method="ModelInfer",rpc_grpc_status_code="0"\} 1/,
    'gRPC calls are timed, by method and status',
  );
  t.match(metrics, /model_predictions_total\{model_name="weather",model_version="1"\} 4/, 'rows counted');
});

t.test('refusals: the status REST answers, with its message', async (t) => {
  const servers = await startServers(t, { maxBodyBytes: 64 * 1024 });
  const grpc = connect(t, Inference, servers.grpc);
  const refused = async (request: object, code: status, details: RegExp, what: string) =>
    t.match(await grpc.ModelInfer!(request), { code, details }, what);
  await refused({ model_name: 'nope' }, status.NOT_FOUND, /Unknown model "nope"/, 'an unknown model');
  await refused(
    inferRequest(1, { model_version: 'abc' }),
    status.NOT_FOUND,
    /Unknown version "abc"/,
    'an unknown version',
  );
  await refused(
    inferRequest(2, { raw_input_contents: [rawRows(1)] }),
    status.INVALID_ARGUMENT,
    /has 24 bytes of binary data, but shape \[2,6\] of FP32 needs 48/,
    'raw contents of the wrong size',
  );
  await refused(
    inferRequest(1, { raw_input_contents: [rawRows(1), rawRows(1)] }),
    status.INVALID_ARGUMENT,
    /raw_input_contents has 2 entries for 1 inputs/,
    'raw contents for inputs that are not there',
  );
  await refused(
    inferRequest(1, {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 6], contents: { fp32_contents: [1] } }],
    }),
    status.INVALID_ARGUMENT,
    /give its data in raw_input_contents or in contents, not both/,
    'raw and typed contents at once',
  );
  await refused(
    {
      model_name: 'weather',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 6], contents: { int64_contents: [1] } }],
    },
    status.INVALID_ARGUMENT,
    /FP32 values go in `fp32_contents`, not `int64_contents`/,
    'typed contents in the wrong field',
  );
  await refused(
    inferRequest(1, {
      inputs: [
        {
          name: 'features',
          datatype: 'FP32',
          shape: [1, 6],
          parameters: { shared_memory_region: { string_param: 'r' } },
        },
      ],
    }),
    status.INVALID_ARGUMENT,
    /shared memory is not supported/,
    'shared memory',
  );
  await refused(inferRequest(5000), status.RESOURCE_EXHAUSTED, /./, 'a message over maxBodyBytes');
  t.match(
    await grpc.TraceSetting!({}),
    { code: status.UNIMPLEMENTED },
    'an RPC of Triton that is not implemented',
  );
});

t.test('tokens: the inference token for all but health, the admin token for the repository', async (t) => {
  const servers = await startServers(t, { inferenceToken: 'inf', adminToken: 'adm' });
  const grpc = connect(t, Inference, servers.grpc);
  t.same(await grpc.ServerLive!({}), { ok: { live: true } }, 'ServerLive is open');
  t.same(await grpc.ServerReady!({}), { ok: { ready: true } }, 'ServerReady is open');
  t.same(await connect(t, Health, servers.grpc).Check!({}), { ok: { status: 'SERVING' } }, 'Health is open');
  for (const method of ['ServerMetadata', 'ModelMetadata', 'ModelConfig', 'ModelStatistics', 'ModelInfer']) {
    const request = method === 'ModelInfer' ? inferRequest(1) : { name: 'weather' };
    t.match(await grpc[method]!(request), { code: status.UNAUTHENTICATED }, `${method}: no token`);
    t.match(
      await grpc[method]!(request, { token: 'adm' }),
      { code: status.UNAUTHENTICATED },
      `${method}: wrong`,
    );
    t.ok('ok' in (await grpc[method]!(request, { token: 'inf' })), `${method}: the inference token`);
  }
  t.match(
    await grpc.RepositoryIndex!({}, { token: 'inf' }),
    { code: status.UNAUTHENTICATED },
    'index: wrong',
  );
  t.match(await grpc.RepositoryIndex!({}, { token: 'adm' }), { ok: { models: [{ name: 'weather' }] } });

  const open = await startServers(t);
  t.match(
    await connect(t, Inference, open.grpc).RepositoryIndex!({}),
    { code: status.PERMISSION_DENIED, details: /no admin token is configured/ },
    'without an admin token the repository RPCs are off',
  );
});

t.test("deadlines: the sooner of the call's and the server's, expiring the queue as over REST", async (t) => {
  const servers = await startServers(t, { requestTimeoutMs: 1 });
  const answer = await connect(t, Inference, servers.grpc).ModelInfer!(inferRequest(100_000));
  // The queue drops the request once its deadline has passed, or the call is answered at it, whichever first.
  t.match(answer, {
    code: status.DEADLINE_EXCEEDED,
    details: /Request timed out after 1 ms|passed its deadline while queued/,
  });

  // One worker, no batching, its run held by the test (test/server/run-gate.ts, issue #20): a request behind it
  // waits in the queue past its call's deadline, however fast or loaded the machine is.
  const patient = await startServers(t, { workers: 1, maxBatchSize: 0, inThreadRunUs: 0 });
  const grpc = connect(t, Inference, patient.grpc);
  t.same(await grpc.ServerLive!({}), { ok: { live: true } }, 'connected');
  const gate = holdRuns(t);
  const first = grpc.ModelInfer!(inferRequest(1));
  await gate.until(() => gate.held === 1);
  t.match(
    await grpc.ModelInfer!(inferRequest(1), { deadlineMs: 200 }),
    { code: status.DEADLINE_EXCEEDED },
    "the call's own deadline",
  );
  gate.open();
  t.ok('ok' in (await first), 'the held one is answered');
  // The server gave up at the call's deadline too, not at its own 30 s, and the queue dropped the request.
  const after = await (await fetch(`${patient.url}/metrics`)).text();
  t.match(after, /rpc_method="ModelInfer",rpc_grpc_status_code="4"\} 1/, 'answered DEADLINE_EXCEEDED');
  t.match(after, /rpc_method="ModelInfer",rpc_grpc_status_code="0"\} 1/, 'and the other OK');
  t.match(after, /model_prediction_errors_total\{[^}]*reason="timeout"\} 1/, 'dropped from the queue');
});

t.test('shutdown: new calls are refused UNAVAILABLE, health says not ready', async (t) => {
  const options: ModelServerOptions = {};
  const modelServer = createModelServer(options);
  const grpcServer = await modelServer.createGrpcServer();
  const port = await grpcServer.listen(0, '127.0.0.1');
  const listening = await listen(modelServer, 0, '127.0.0.1');
  await modelServer.loaded;
  const grpc = connect(t, Inference, `127.0.0.1:${port}`);
  t.ok('ok' in (await grpc.ModelMetadata!({ name: 'weather' })), 'served before');
  const closing = modelServer.close({ graceMs: 1000 });
  t.match(
    await grpc.ModelMetadata!({ name: 'weather' }),
    { code: status.UNAVAILABLE, details: 'Server is shutting down' },
    'refused once shutdown began',
  );
  t.same(await grpc.ServerReady!({}), { ok: { ready: false } }, 'not ready');
  await closing;
  await Promise.all([grpcServer.close(100), listening.close(100)]);
});

t.test('the v2-grpc scorer: refusals are not retried, an unreachable server is', async (t) => {
  const servers = await startServers(t);
  const contract = {
    format: 1 as const,
    name: 'weather',
    platform: 'onnxruntime_onnx' as const,
    inputs: [{ name: 'features', datatype: 'FP64' as const, shape: [-1, FEATURES] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32' as const, shape: [-1, 5] }],
  };
  const input = {
    name: 'features',
    datatype: 'FP64' as const,
    shape: [1, FEATURES],
    data: new Float64Array(6),
  };
  const retries: string[] = [];
  const refusing = createGrpcScorer({
    url: servers.grpc,
    contract: contract as never,
    onRetry: (e) => retries.push(e.reason),
  });
  const refusal = await refusing.score([input]).catch((err: unknown) => err);
  t.ok(isBatchInferError(refusal, 'BI_ERR_HTTP_STATUS'), 'fails');
  t.match(refusal, {
    context: { status: 400 },
    message: /INVALID_ARGUMENT: Input "features": datatype "FP64" does not match the model's FP32/,
  });
  t.same(retries, [], 'not retried: the ModelScorer bisects a 400');
  await refusing.close();

  const unreachable = createGrpcScorer({
    url: 'grpc://127.0.0.1:1',
    contract: contract as never,
    retries: 2,
    retryBaseDelayMs: 1,
    onRetry: (e) => retries.push(e.reason),
  });
  const failure = await unreachable.score([input]).catch((err: unknown) => err);
  t.match(failure, { context: { status: 503 }, message: /UNAVAILABLE.*\(after 3 attempts\)/ });
  t.equal(retries.length, 2, 'retried twice');
  await unreachable.close();
});
