import t from 'tap';
import { Agent, request } from 'undici';
import { serveCli as serve } from './spawn-cli.js';

function bigInfer(rows: number): string {
  return JSON.stringify({
    inputs: [{ name: 'features', shape: [rows, 6], datatype: 'FP32', data: new Array(rows * 6).fill(0.5) }],
  });
}

t.test('SIGTERM: requests in flight all complete with 200, new ones are refused, exit 0', async (t) => {
  const server = await serve(t);
  const body = bigInfer(20_000);
  const inflight = Array.from({ length: 12 }, () =>
    request(`${server.url}/v2/models/weather/infer`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    }).then(
      async (res) => {
        await res.body.dump();
        return res.statusCode;
      },
      (err: unknown) => (err as Error).message,
    ),
  );
  await new Promise((r) => setTimeout(r, 30));
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const refused = (err: unknown) => (err as { code?: string }).code ?? 'error';
  // A new client (its own connection pool) is what a new caller looks like: no kept-alive socket to reuse.
  const fresh = new Agent();
  t.teardown(() => fresh.close());
  const late = await request(`${server.url}/v2/models/weather/infer`, {
    method: 'POST',
    body: bigInfer(1),
    dispatcher: fresh,
  }).then((res) => `status ${res.statusCode}`, refused);
  const ready = await request(`${server.url}/v2/health/ready`, { dispatcher: fresh }).then(
    (res) => `status ${res.statusCode}`,
    refused,
  );
  t.same(await Promise.all(inflight), new Array(12).fill(200), 'every in-flight request answered 200');
  // Refused means never served: the port is closed (ECONNREFUSED), a socket accepted in the instant of closing
  // is reset (Node's server.close() ends idle sockets), or a kept-alive socket gets 503 + Connection: close.
  t.match(late, /ECONNREFUSED|ECONNRESET|status 503/, `a new request after SIGTERM is refused (${late})`);
  t.match(ready, /ECONNREFUSED|status 400/, `not ready once shutdown begins (${ready})`);
  t.equal(await server.exited, 0);
  t.match(server.stderr(), /shutting down: draining in-flight requests[\s\S]*stopped/);
});

t.test('x-request-id is echoed, or made when absent', async (t) => {
  const server = await serve(t);
  const given = await fetch(`${server.url}/v2`, { headers: { 'x-request-id': 'abc-123' } });
  t.equal(given.headers.get('x-request-id'), 'abc-123');
  const made = await fetch(`${server.url}/v2`);
  t.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const junk = await fetch(`${server.url}/v2`, { headers: { 'x-request-id': 'has spaces and "quotes"' } });
  t.not(junk.headers.get('x-request-id'), 'has spaces and "quotes"', 'an unsafe id is replaced');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});
