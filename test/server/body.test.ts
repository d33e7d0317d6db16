/**
 * readBody on a real node:http server on 127.0.0.1:0: a body in one chunk is returned as it came, a body in
 * several chunks is joined, and the limits answer as before: 413 from a declared or a counted size, 400 when the
 * client goes away mid-body. Every wait is on an event, never a fixed sleep.
 */
import t, { type Test } from 'tap';
import { EventEmitter, once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../server/http/body.js';
import { HttpError } from '../../server/http/http-error.js';

interface Outcome {
  body?: Buffer;
  err?: unknown;
  /** How many `data` events the request had. */
  chunks: number;
}

/**
 * A server whose requests go to `readBody(req, limit)`; `events` emits `chunk` for every chunk received and
 * `outcome` when readBody settles.
 */
async function bodyServer(t: Test, limit: number): Promise<{ port: number; events: EventEmitter }> {
  const events = new EventEmitter();
  const server = createServer((req: IncomingMessage, res) => {
    let chunks = 0;
    req.on('data', () => {
      chunks++;
      events.emit('chunk');
    });
    readBody(req, limit).then(
      (body) => {
        events.emit('outcome', { body, chunks });
        res.end('ok');
      },
      (err: unknown) => {
        events.emit('outcome', { err, chunks });
        res.statusCode = err instanceof HttpError ? err.status : 500;
        res.end();
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, events };
}

/** POSTs `parts`, each written once the server has read the previous one; resolves with status and outcome. */
async function post(
  { port, events }: { port: number; events: EventEmitter },
  parts: Buffer[],
  headers: Record<string, string>,
): Promise<{ status: number; outcome: Outcome }> {
  const outcome = once(events, 'outcome') as Promise<[Outcome]>;
  const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers });
  req.flushHeaders();
  for (const [i, part] of parts.entries()) {
    const read = once(events, 'chunk');
    req.write(part);
    // The last part may be refused unread (a 413 stops counting), so only the earlier ones are waited for.
    if (i < parts.length - 1) await read;
  }
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
  return { status: res.statusCode ?? 0, outcome: (await outcome)[0] };
}

t.test('one chunk, several chunks, none', async (t) => {
  const server = await bodyServer(t, 1 << 20);
  const one = Buffer.from('{"inputs":[]}');
  const single = await post(server, [one], { 'content-length': String(one.length) });
  t.equal(single.status, 200);
  t.equal(single.outcome.chunks, 1);
  t.same(single.outcome.body, one, 'a single chunk is the body');

  const parts = [Buffer.from('{"inpu'), Buffer.from('ts":'), Buffer.from('[]}')];
  const joined = await post(server, parts, { 'transfer-encoding': 'chunked' });
  t.equal(joined.status, 200);
  t.equal(joined.outcome.chunks, 3, 'one chunk per part');
  t.same(joined.outcome.body, Buffer.concat(parts), 'several chunks are joined in order');

  const empty = await post(server, [], { 'content-length': '0' });
  t.equal(empty.status, 200);
  t.ok(Buffer.isBuffer(empty.outcome.body) && empty.outcome.body.length === 0, 'no body is an empty Buffer');
});

t.test('limits: declared, counted, and a client that goes away', async (t) => {
  const server = await bodyServer(t, 10);
  const big = Buffer.alloc(11, 0x20);
  const declared = await post(server, [big], { 'content-length': '11' });
  t.equal(declared.status, 413);
  t.match(declared.outcome.err, {
    status: 413,
    message: 'Request body of 11 bytes exceeds the limit of 10 bytes',
  });
  const counted = await post(server, [big.subarray(0, 6), big.subarray(6)], {
    'transfer-encoding': 'chunked',
  });
  t.equal(counted.status, 413);
  t.match(counted.outcome.err, { status: 413, message: 'Request body exceeds the limit of 10 bytes' });
  const fits = await post(server, [big.subarray(0, 10)], { 'content-length': '10' });
  t.equal(fits.status, 200, 'the limit itself fits');
  t.equal(fits.outcome.body?.length, 10);

  const outcome = once(server.events, 'outcome') as Promise<[Outcome]>;
  const req = request({
    port: server.port,
    host: '127.0.0.1',
    method: 'POST',
    path: '/',
    headers: { 'content-length': '8' },
  });
  req.on('error', () => undefined);
  const read = once(server.events, 'chunk');
  req.write('1234');
  await read;
  req.destroy();
  const [{ err }] = await outcome;
  t.ok(err instanceof HttpError);
  t.match(err, {
    status: 400,
    message: 'The request body was not received completely: the connection was closed',
  });
});
