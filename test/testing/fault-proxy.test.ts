import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline, type RunRecord } from '../../lib/index.js';
import { startFaultProxy, type FaultProxyOptions } from '../../testing/index.js';
import { startServer, tempDir, WEATHER_CSV } from '../helpers.js';

const INFER = '/v2/models/weather/infer';
const BODY = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
});

async function proxyTo(t: Test, options: Omit<FaultProxyOptions, 'target'>) {
  const proxy = await startFaultProxy({ target: await startServer(t), ...options });
  t.teardown(() => proxy.close());
  return proxy;
}

function infer(url: string, signal?: AbortSignal): Promise<Response> {
  return fetch(url + INFER, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    ...(signal === undefined ? {} : { signal }),
  });
}

/** How one request through the proxy ended: its status, or the client-side error code. */
async function outcome(url: string): Promise<string> {
  return infer(url).then(
    async (res) => `${res.status}${res.headers.get('retry-after') === null ? '' : ' retry-after'}`,
    (err: unknown) => {
      const e = err as Error & { cause?: { code?: string } };
      return e.cause?.code ?? e.name;
    },
  );
}

t.test('without faults it is a transparent proxy', async (t) => {
  const server = await startServer(t);
  const proxy = await startFaultProxy({ target: server });
  t.teardown(() => proxy.close());
  const direct = await (await infer(server)).json();
  const proxied = await infer(proxy.url);
  t.equal(proxied.status, 200);
  t.same(await proxied.json(), direct);
  t.equal((await fetch(`${proxy.url}/v2/health/ready`)).status, 200);
  t.match(proxy.counts, { requests: 2, forwarded: 2, serverError: 0, reset: 0, stall: 0, abandoned: 0 });
});

t.test('each fault, alone at rate 1', async (t) => {
  t.test('serverError: a 5xx from errorStatuses with an {"error"} body', async (t) => {
    const proxy = await proxyTo(t, { rates: { serverError: 1 }, errorStatuses: [502, 504] });
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => infer(proxy.url)));
    for (const res of answers) {
      t.ok([502, 504].includes(res.status), `status ${res.status}`);
      t.match(await res.json(), { error: /injected 50[24]/ });
    }
    t.match(proxy.counts, { requests: 6, forwarded: 0, serverError: 6 });
  });

  t.test('tooManyRequests: 429 with Retry-After', async (t) => {
    const proxy = await proxyTo(t, { rates: { tooManyRequests: 1 }, retryAfter: '7' });
    const res = await infer(proxy.url);
    t.equal(res.status, 429);
    t.equal(res.headers.get('retry-after'), '7');
    t.equal(proxy.counts.tooManyRequests, 1);
  });

  t.test('reset: the connection is reset before any answer', async (t) => {
    const proxy = await proxyTo(t, { rates: { reset: 1 } });
    t.equal(await outcome(proxy.url), 'ECONNRESET');
    t.match(proxy.counts, { requests: 1, forwarded: 0, reset: 1 });
  });

  t.test('stall: no answer until the client gives up', async (t) => {
    const proxy = await proxyTo(t, { rates: { stall: 1 } });
    // The client gives up once the proxy holds its request (a fixed timeout could fire before the request
    // even arrives on a loaded machine); with no answer coming, only the abort ends the request.
    const client = new AbortController();
    const waiting = setInterval(() => {
      if (proxy.counts.stall === 1) client.abort();
    }, 10);
    t.teardown(() => clearInterval(waiting));
    await t.rejects(infer(proxy.url, client.signal), { name: 'AbortError' });
    t.match(proxy.counts, { requests: 1, stall: 1, abandoned: 0 });
  });

  t.test('slowBody: the real answer, trickled; a client that stops waiting is counted', async (t) => {
    const server = await startServer(t);
    const direct = await (await infer(server)).json();
    const proxy = await startFaultProxy({ target: server, rates: { slowBody: 1 }, slowBodyMs: 200 });
    t.teardown(() => proxy.close());
    t.same(await (await infer(proxy.url)).json(), direct, 'the answer arrives whole');
    t.match(proxy.counts, { forwarded: 1, slowBody: 1, abandoned: 0 });

    const slower = await startFaultProxy({ target: server, rates: { slowBody: 1 }, slowBodyMs: 60_000 });
    t.teardown(() => slower.close());
    // The client gives up once the headers are in, with the body a minute from complete (a 300 ms timeout could
    // fire before even the headers came on a loaded machine; issue #20).
    const client = new AbortController();
    const res = await infer(slower.url, client.signal);
    t.equal(res.status, 200, 'the headers come at once');
    client.abort();
    await t.rejects(
      res.arrayBuffer(),
      { name: 'AbortError' },
      'the body does not come before the client leaves',
    );
    while (slower.counts.abandoned === 0) await new Promise((r) => setImmediate(r));
    t.match(slower.counts, { forwarded: 1, slowBody: 1, abandoned: 1 });
  });

  t.test('health checks and metadata are never faulted (only POST, unless faultable says)', async (t) => {
    const proxy = await proxyTo(t, { rates: { serverError: 1 } });
    t.equal((await fetch(`${proxy.url}/v2/health/ready`)).status, 200);
    t.equal((await fetch(`${proxy.url}/v2/models/weather`)).status, 200);
    const strict = await proxyTo(t, { rates: { serverError: 1 }, faultable: () => true });
    t.ok((await fetch(`${strict.url}/v2/health/ready`)).status >= 500);
  });
});

t.test('seeded: the same seed replays the same faults, another seed does not', async (t) => {
  const server = await startServer(t);
  const rates = { serverError: 0.2, tooManyRequests: 0.2, reset: 0.2 };
  const sequence = async (seed: number): Promise<string[]> => {
    const proxy = await startFaultProxy({ target: server, rates, seed });
    t.teardown(() => proxy.close());
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) outcomes.push(await outcome(proxy.url));
    return outcomes;
  };
  const first = await sequence(3);
  t.same(await sequence(3), first);
  t.notSame(await sequence(4), first);
  const kinds = new Set(first);
  for (const kind of ['200', '429 retry-after', 'ECONNRESET']) t.ok(kinds.has(kind), `${kind} among them`);
  t.ok(
    first.some((o) => /^50[0234]$/.test(o)),
    '5xx among them',
  );
});

t.test('options are checked', async (t) => {
  const target = 'http://127.0.0.1:1';
  await t.rejects(startFaultProxy({ target, rates: { serverError: 0.7, reset: 0.5 } }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /add up to 1\.2/,
  });
  await t.rejects(startFaultProxy({ target, rates: { stall: -0.1 } }), {
    message: /`rates\.stall`: expected a number from 0 to 1, got -0\.1/,
  });
  await t.rejects(startFaultProxy({ target, rates: { timeout: 0.1 } as never }), {
    message: /Unknown option `timeout`/,
  });
  await t.rejects(startFaultProxy({ target, errorStatuses: [404] }), { message: /5xx statuses/ });
});

t.test('a pipeline through 429s and slow bodies: same output, one retry per refusal', async (t) => {
  const server = await startServer(t);
  const dir = await tempDir(t);
  const run = (name: string, url: string) =>
    createPipeline({
      input: WEATHER_CSV,
      output: join(dir, `${name}.csv`),
      url,
      batchSize: 100,
      retries: 10,
      history: join(dir, `${name}.jsonl`),
    });
  await run('direct', server);
  const proxy = await startFaultProxy({
    target: server,
    rates: { tooManyRequests: 0.3, slowBody: 0.3 },
    retryAfter: '0',
    slowBodyMs: 50,
    seed: 9,
  });
  t.teardown(() => proxy.close());
  await run('proxied', proxy.url);
  t.ok(
    (await readFile(join(dir, 'proxied.csv'))).equals(await readFile(join(dir, 'direct.csv'))),
    'byte-identical output',
  );
  const record = JSON.parse(await readFile(join(dir, 'proxied.jsonl'), 'utf8')) as RunRecord;
  t.ok(proxy.counts.tooManyRequests > 0 && proxy.counts.slowBody > 0, JSON.stringify(proxy.counts));
  t.equal(record.requests.retries, proxy.counts.tooManyRequests + proxy.counts.abandoned);
  t.equal(record.requests.by_outcome.success, Math.ceil(2922 / 100), 'one success per batch');
  t.equal(record.requests.by_outcome.error, proxy.counts.tooManyRequests);
});
