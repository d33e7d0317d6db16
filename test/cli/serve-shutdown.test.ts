/**
 * `batch-infer serve` and SIGTERM (issue #10 point 5): requests the server has begun all complete with 200,
 * new connections are refused, and the process exits 0. Every wait is on a condition the server reports
 * (`http_server_active_requests`, its "shutting down" log line, a count of answers), never a fixed head start.
 */
import t from 'tap';
import { Agent, request, type IncomingMessage } from 'node:http';
import { Agent as UndiciAgent, request as undiciRequest } from 'undici';
import { serveCli as serve, type ServingCli } from './spawn-cli.js';
import { send } from '../server/fuzz-client.js';
import { metric, sleep } from '../server/v2-client.js';

// Every request's access line (request id, final status) is logged at debug level; the load test reads them.
process.env.BATCH_INFER_LOG_LEVEL = 'debug';

function inferBody(rows: number): string {
  return JSON.stringify({
    inputs: [{ name: 'features', shape: [rows, 6], datatype: 'FP32', data: new Array(rows * 6).fill(0.5) }],
  });
}

/** Polls the server's /metrics until `value(text)` holds. */
async function until(url: string, what: string, holds: (metrics: string) => boolean): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (holds(await (await fetch(`${url}/metrics`)).text())) return;
    await sleep(20);
  }
  throw new Error(`${what} never happened`);
}

/** Resolves once the server has logged that it is shutting down (it stops accepting right after). */
async function shuttingDown(server: ServingCli): Promise<void> {
  while (!server.stderr().includes('shutting down: draining in-flight requests')) await sleep(10);
}

/**
 * A request whose body is half sent: the server has begun it (it waits for the rest) and cannot finish it
 * before `finish()`. Resolves to the status, or the connection error's code.
 */
function heldRequest(url: string, body: string): { finish(): void; answer: Promise<number | string> } {
  const { hostname, port } = new URL(url);
  const half = Math.floor(body.length / 2);
  const req = request({
    host: hostname,
    port,
    method: 'POST',
    path: '/v2/models/weather/infer',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
  });
  const answer = new Promise<number | string>((resolve) => {
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  req.write(body.slice(0, half));
  return { finish: () => req.end(body.slice(half)), answer };
}

t.test('SIGTERM: requests in flight all complete with 200, new ones are refused, exit 0', async (t) => {
  const server = await serve(t);
  const held = Array.from({ length: 12 }, () => heldRequest(server.url, inferBody(2_000)));
  // All twelve are in the server's hands: headers read, bodies still coming.
  await until(server.url, '12 active requests', (m) => metric(m, 'http_server_active_requests') >= 12);
  server.child.kill('SIGTERM');
  await shuttingDown(server);
  const refused = (err: unknown) => (err as { code?: string }).code ?? 'error';
  // A new client (its own connection pool) is what a new caller looks like: no kept-alive socket to reuse.
  const fresh = new UndiciAgent();
  t.teardown(() => fresh.close());
  const late = await undiciRequest(`${server.url}/v2/models/weather/infer`, {
    method: 'POST',
    body: inferBody(1),
    dispatcher: fresh,
  }).then((res) => `status ${res.statusCode}`, refused);
  const ready = await undiciRequest(`${server.url}/v2/health/ready`, { dispatcher: fresh }).then(
    (res) => `status ${res.statusCode}`,
    refused,
  );
  for (const request of held) request.finish();
  t.same(
    await Promise.all(held.map((r) => r.answer)),
    new Array(12).fill(200),
    'every in-flight request answered 200',
  );
  // Refused means never served: the port is closed (ECONNREFUSED), or a connection accepted in the instant of
  // closing is reset (ECONNRESET).
  t.match(late, /ECONNREFUSED|ECONNRESET/, `a new connection after SIGTERM is refused (${late})`);
  t.match(ready, /ECONNREFUSED|ECONNRESET/, `so is a readiness probe on a new connection (${ready})`);
  t.equal(await server.exited, 0);
  t.match(server.stderr(), /shutting down: draining in-flight requests[\s\S]*stopped/);
});

/** What a client saw of one request: a status, or the code of the connection error. */
type Outcome = number | string;

t.test(
  'SIGTERM under load: every request the server took on is answered, the rest refused cleanly',
  async (t) => {
    const server = await serve(t);
    const outcomes = new Map<string, Outcome>();
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.teardown(() => agent.destroy());
    let next = 0;
    let answered = 0;
    // Sixteen clients, each sending single-row requests back to back until it is refused.
    const client = async (): Promise<void> => {
      for (;;) {
        const id = `load-${next++}`;
        try {
          const { status } = await send(server.url, agent, {
            method: 'POST',
            path: '/v2/models/weather/infer',
            headers: { 'content-type': 'application/json', 'x-request-id': id },
            body: inferBody(1),
          });
          outcomes.set(id, status);
          if (status !== 200) return;
          answered++;
        } catch (err) {
          outcomes.set(id, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
          return;
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    while (answered < 300) await sleep(10);
    server.child.kill('SIGTERM');
    await Promise.all(clients);
    t.equal(await server.exited, 0, 'exit 0');

    // What the server did with each request, from its access lines (request id and final status).
    const handled = new Map<string, number>();
    for (const line of server.stderr().split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; request_id?: string; status?: number };
      if (entry.msg === 'request' && entry.request_id?.startsWith('load-') === true)
        handled.set(entry.request_id, entry.status ?? 0);
    }
    const lost = [...handled].filter(([id, status]) => outcomes.get(id) !== status);
    t.same(lost, [], 'every request the server handled reached its client with the status the server gave');
    const statuses = new Set(handled.values());
    t.ok(
      [...statuses].every((s) => s === 200 || s === 503),
      `the server answered only 200 or 503 (${[...statuses].join(', ')})`,
    );
    const unhandled = [...outcomes].filter(([id]) => !handled.has(id)).map(([, outcome]) => outcome);
    t.ok(
      unhandled.every((o) => typeof o === 'string' && /ECONNREFUSED|ECONNRESET|EPIPE/.test(o)),
      `requests the server never took on were refused at the connection (${[...new Set(unhandled)].join(', ')})`,
    );
    const after = [...outcomes.values()].filter((o) => o === 200).length;
    t.comment(
      `${outcomes.size} requests: ${after} answered 200, ${[...outcomes.values()].filter((o) => o === 503).length} refused with 503, ${unhandled.length} refused at the connection`,
    );
  },
);

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
