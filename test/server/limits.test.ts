/**
 * Connection limits (issue #10 point 6): a client sending its headers or its body a byte a second (slowloris)
 * is answered 408 and cut off while other clients are served; oversized headers get 431 and oversized bodies
 * 413, each with the JSON error body, and a connection that carried a refused body still works; idle
 * kept-alive connections are closed. Every wait is on an event (the server closing the connection), never a
 * fixed sleep: the limits themselves are the server's.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { Agent } from 'node:http';
import { createModelServer } from '../../server/index.js';
import { startServer } from '../helpers.js';
import { send } from './fuzz-client.js';

interface Trickle {
  /** Bytes written before the server closed the connection. */
  sent: number;
  /** Everything the server wrote. */
  received: string;
}

/**
 * Writes `prefix` at once, then `text` one byte per `everyMs`, on a new connection, until all is sent or the
 * server closes the connection; resolves when the connection is closed.
 */
function trickle(port: number, prefix: string, text: string, everyMs: number): Promise<Trickle> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let sent = 0;
    let received = '';
    socket.write(prefix);
    const timer = setInterval(() => {
      if (sent < text.length && socket.writable) socket.write(text[sent++] ?? '');
    }, everyMs);
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ sent, received });
    });
  });
}

const INFER = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
});
const json408 =
  /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*\r\n\r\n\{"error":"The request was not received in time"\}$/;

t.test(
  'slowloris: headers sent a byte a second are cut off with 408, others are served meanwhile',
  async (t) => {
    const url = await startServer(t, { workers: 1, headersTimeoutMs: 1_500 });
    const port = Number(new URL(url).port);
    const request = `GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`;
    const slow = Array.from({ length: 20 }, () => trickle(port, '', request, 1_000));
    // While twenty slow clients hold connections, a normal one is answered.
    const agent = new Agent();
    t.teardown(() => agent.destroy());
    const normal = await send(url, agent, { method: 'POST', path: '/v2/models/weather/infer', body: INFER });
    t.equal(normal.status, 200, 'a normal request is served while slow clients hang on');
    for (const { sent, received } of await Promise.all(slow)) {
      t.ok(sent < request.length, `cut off after ${sent} of ${request.length} header bytes`);
      t.match(received, json408, 'answered 408 with the JSON error body');
    }
  },
);

t.test('a body sent a byte a second is cut off at the receive timeout', async (t) => {
  const url = await startServer(t, { workers: 1, headersTimeoutMs: 1_000, receiveTimeoutMs: 2_000 });
  const port = Number(new URL(url).port);
  const head = `POST /v2/models/weather/infer HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${INFER.length}\r\n\r\n`;
  const { sent, received } = await trickle(port, head, INFER, 1_000);
  t.ok(sent < INFER.length, `cut off after ${sent} of ${INFER.length} body bytes`);
  t.match(received, json408);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.notMatch(metrics, /status_code="5\d\d"/, 'the cut-off request is not counted as a server failure');
});

t.test('headers over maxHeaderBytes get 431 with the JSON error body', async (t) => {
  const url = await startServer(t, { workers: 1 });
  const port = Number(new URL(url).port);
  const big = `GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
  const { received } = await trickle(port, big, '', 0);
  t.match(received, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  t.match(received, /\r\n\r\n\{"error":"The request headers are too large"\}$/);

  const roomy = await startServer(t, { workers: 1, maxHeaderBytes: 32 * 1024 });
  const res = await fetch(`${roomy}/v2/health/live`, { headers: { 'x-big': 'a'.repeat(20_000) } });
  t.equal(res.status, 200, 'a larger maxHeaderBytes lets them through');
});

t.test('an oversized body gets 413, and its connection carries the next request', async (t) => {
  const url = await startServer(t, { workers: 1, maxBodyBytes: 64 * 1024 });
  // One connection only, kept alive: the second request must go where the refused body went.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  for (const framing of ['content-length', 'chunked']) {
    const big = Buffer.alloc(256 * 1024, 0x20);
    const headers: Record<string, string> =
      framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(big.length) };
    const refused = await send(url, agent, {
      method: 'POST',
      path: '/v2/models/weather/infer',
      headers,
      body: big,
    });
    t.equal(refused.status, 413, `${framing}: 413`);
    t.match(JSON.parse(refused.text), { error: /exceeds the limit of 65536 bytes/ });
    const next = await send(url, agent, { method: 'POST', path: '/v2/models/weather/infer', body: INFER });
    t.equal(next.status, 200, `${framing}: the same connection serves the next request`);
  }
});

t.test('an idle kept-alive connection is closed after keepAliveTimeoutMs', async (t) => {
  const url = await startServer(t, { workers: 1, keepAliveTimeoutMs: 300 });
  const port = Number(new URL(url).port);
  const { received } = await trickle(port, 'GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n', '', 0);
  t.match(received, /^HTTP\/1\.1 200 OK\r\n/, 'answered, then closed by the server once idle');
});

t.test('limit options are checked', async (t) => {
  t.throws(() => createModelServer({ headersTimeoutMs: 70_000 }), { code: 'BI_ERR_INVALID_OPTION' });
  t.throws(() => createModelServer({ headersTimeoutMs: 5_000, receiveTimeoutMs: 4_000 }), {
    message: /headersTimeoutMs/,
  });
  t.throws(() => createModelServer({ maxHeaderBytes: 100 }), { message: /maxHeaderBytes/ });
  t.throws(() => createModelServer({ keepAliveTimeoutMs: 0 }), { message: /keepAliveTimeoutMs/ });
});
