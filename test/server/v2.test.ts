import t from 'tap';
import { startServer } from '../helpers.js';

const json = async (res: Response): Promise<Record<string, unknown>> =>
  (await res.json()) as Record<string, unknown>;

t.test('health, server metadata and model metadata', async (t) => {
  const url = await startServer(t);
  t.equal((await fetch(`${url}/v2/health/live`)).status, 200);
  t.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
  const server = await json(await fetch(`${url}/v2`));
  t.equal(server.name, 'batch-infer');
  t.ok(Array.isArray(server.extensions));
  const meta = await json(await fetch(`${url}/v2/models/weather`));
  t.equal(meta.name, 'weather');
  t.same(meta.versions, ['1']);
  t.same(meta.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 6] }]);
  const contract = JSON.parse((meta.properties as Record<string, string>).contract ?? '{}') as {
    labels: string[];
  };
  t.same(contract.labels, ['drizzle', 'fog', 'rain', 'snow', 'sun']);
  t.equal((await fetch(`${url}/v2/models/weather/versions/1/ready`)).status, 200);
});

t.test('JSON inference round trip, flat and nested data, id echoed', async (t) => {
  const url = await startServer(t);
  const row = [0.5, -0.2, 0.1, 0.3, 0.7, -0.7];
  for (const data of [
    [...row, ...row],
    [row, row],
  ]) {
    const res = await fetch(`${url}/v2/models/weather/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'req-7',
        inputs: [{ name: 'features', shape: [2, 6], datatype: 'FP32', data }],
      }),
    });
    t.equal(res.status, 200);
    const body = await json(res);
    t.equal(body.id, 'req-7');
    t.equal(body.model_name, 'weather');
    t.equal(body.model_version, '1');
    const [out] = body.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[];
    t.equal(out?.name, 'probabilities');
    t.same(out?.shape, [2, 5]);
    t.equal(out?.datatype, 'FP32');
    const first = out!.data.slice(0, 5).reduce((a, b) => a + b, 0);
    t.ok(Math.abs(first - 1) < 1e-5, 'probabilities sum to 1');
    t.same(out!.data.slice(0, 5), out!.data.slice(5), 'same row, same answer');
  }
});

t.test('errors carry {"error"} with the right status', async (t) => {
  const url = await startServer(t);
  const post = (path: string, body: string) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const cases: [string, string, number, RegExp][] = [
    ['/v2/models/nope/infer', '{"inputs":[]}', 404, /Unknown model "nope"/],
    ['/v2/models/weather/versions/9/infer', '{"inputs":[]}', 404, /Unknown version "9"/],
    ['/v2/models/weather/infer', '{not json', 400, /not valid JSON/],
    [
      '/v2/models/weather/infer',
      '{"inputs":[{"name":"features","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]}',
      400,
      /unexpected shape \[1,5\]/,
    ],
    [
      '/v2/models/weather/infer',
      '{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":[1,2,3]}]}',
      400,
      /needs 6 values, got 3/,
    ],
    [
      '/v2/models/weather/infer',
      '{"inputs":[{"name":"features","shape":[1,6],"datatype":"INT32","data":[1,2,3,4,5,6]}]}',
      400,
      /datatype "INT32"/,
    ],
    [
      '/v2/models/weather/infer',
      '{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":[1,2,3,4,5,"x"]}]}',
      400,
      /element 5/,
    ],
    [
      '/v2/models/weather/infer',
      '{"inputs":[{"name":"other","shape":[1,6],"datatype":"FP32","data":[1,2,3,4,5,6]}]}',
      400,
      /Unknown input "other"/,
    ],
    [
      '/v2/models/weather/infer',
      '{"inputs":[{"name":"features","shape":[1,6],"datatype":"FP32","data":[1,2,3,4,5,6]}],"outputs":[{"name":"zzz"}]}',
      400,
      /Unknown output "zzz"/,
    ],
  ];
  for (const [path, body, status, message] of cases) {
    const res = await post(path, body);
    t.equal(res.status, status, `${path} ${body.slice(0, 40)} → ${status}`);
    t.match(((await res.json()) as { error: string }).error, message);
  }
  const unknown = await fetch(`${url}/nowhere`);
  t.equal(unknown.status, 404);
  t.match(((await unknown.json()) as { error: string }).error, /No route/);
});

t.test('a body over maxBodyBytes gets 413', async (t) => {
  const url = await startServer(t, { maxBodyBytes: 1000 });
  const res = await fetch(`${url}/v2/models/weather/infer`, { method: 'POST', body: 'x'.repeat(5000) });
  t.equal(res.status, 413);
  t.match(((await res.json()) as { error: string }).error, /exceeds the limit of 1000 bytes/);
});

t.test('/metrics exposes request and prediction metrics', async (t) => {
  const url = await startServer(t);
  await fetch(`${url}/v2/models/weather/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'features', shape: [3, 6], datatype: 'FP32', data: new Array(18).fill(0) }],
    }),
  });
  const text = await (await fetch(`${url}/metrics`)).text();
  t.match(text, /model_predictions_total\{model_name="weather",model_version="1"\} 3/);
  t.match(
    text,
    /http_server_request_duration_seconds_count\{http_request_method="POST",http_route="\/v2\/models\/:model\/infer",http_response_status_code="200"\} 1/,
  );
});

t.test('an empty repository is live but not ready', async (t) => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const url = await startServer(t, { models: await mkdtemp(`${tmpdir()}/empty-repo-`) });
  t.equal((await fetch(`${url}/v2/health/live`)).status, 200);
  t.equal((await fetch(`${url}/v2/health/ready`)).status, 400);
});

t.test('server logs carry the request id the client sent', async (t) => {
  const { pino } = await import('pino');
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const url = await startServer(t, { logger });
  await fetch(`${url}/v2/models/weather/infer`, {
    method: 'POST',
    headers: { 'x-request-id': 'trace-42' },
    body: '{bad',
  });
  const line = lines.find((l) => l.msg === 'request' && l.request_id === 'trace-42');
  t.ok(line, 'an access line with the request id');
  t.equal(line?.status, 400);
});
