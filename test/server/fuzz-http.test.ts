/**
 * Fuzzing below HTTP (issue #10 points 4 and 6): raw bytes on a socket, request lines and headers of any form,
 * bodies framed right or wrong (a Content-Length that lies either way, broken chunked encoding, bodies cut
 * off), and oversized bodies. Whatever the server answers is a complete response: a 4xx `{"error"}` or, for
 * a request that happened to be valid, a 2xx; never a 5xx, never a stack or a host path. Cut-off requests get
 * no answer (nobody is left to read it), but the server must not count them as its own failures either.
 */
import t from 'tap';
import fc from 'fast-check';
import { connect } from 'node:net';
import { FUZZ_SEED, fuzzServer, problemWith, runs, type Answer, type FuzzServer } from './fuzz-client.js';

/** The server's limits here: short, so a request that leaves it waiting costs little. */
const LIMITS = { headersTimeoutMs: 1_000, receiveTimeoutMs: 2_000, maxBodyBytes: 64 * 1024 };
/** A guard against a hung test, far beyond the server's own receive timeout; never reached when all is well. */
const GUARD_MS = 30_000;

/**
 * Writes `bytes` on a new connection. `complete`: resolves with all the server wrote once it closes the
 * connection (the request asks for that, and a malformed one is answered and closed). Otherwise the request is
 * cut off: the client goes away, and there is nothing to read.
 */
function exchange(port: number, bytes: Buffer, complete: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `the server left the connection open: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`,
        ),
      );
    }, GUARD_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the server's answer is an ending like any other
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(Buffer.concat(chunks));
    });
    socket.write(bytes, () => {
      if (!complete) socket.destroy();
    });
  });
}

/** HTTP/1.1 responses, one after another, as the server wrote them (bodies framed by Content-Length). */
function parseResponses(raw: Buffer): Answer[] {
  const answers: Answer[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0)
      throw new Error(`an incomplete response: ${JSON.stringify(rest.toString('latin1').slice(0, 200))}`);
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = status < 200 ? 0 : Number(headers['content-length'] ?? rest.length - end - 4);
    const body = rest.subarray(end + 4, end + 4 + length);
    if (body.length < length)
      throw new Error(`a response cut short: ${statusLine}, ${body.length} of ${length} bytes`);
    if (status >= 200) answers.push({ status, headers, text: body.toString('utf8') });
    rest = rest.subarray(end + 4 + length);
  }
  return answers;
}

const PATHS = [
  '/v2/models/weather/infer',
  '/v2/models/weather/versions/1/infer',
  '/v2/models/weather',
  '/v2/health/ready',
  '/invocations',
  '/predict',
  '/v2/repository/index',
  '/metrics',
];
const INFER = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
});

const token = fc.stringMatching(/^[A-Za-z]{1,10}$/);
const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST'), weight: 6 },
  fc.constantFrom('PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PRI', 'get', ''),
  token,
);
const target = fc.oneof(
  { arbitrary: fc.constantFrom(...PATHS), weight: 6 },
  fc.constantFrom('*', '', '//', '/v2/models/weather/infer?x=%', 'http://evil/v2', '/%00', '/\u00ff', '/a b'),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const version = fc.oneof(
  { arbitrary: fc.constant('HTTP/1.1'), weight: 6 },
  fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'HTTP/9.9', '', 'http/1.1'),
);
/** Headers that do not change how the body is framed (framing is the `framing` generator's job). */
const header = fc.oneof(
  fc.constantFrom(
    'Content-Type: application/json',
    'Content-Type: text/csv',
    'Content-Type: application/jsonlines',
    'Expect: 100-continue',
    'Connection: upgrade\r\nUpgrade: websocket',
    'Inference-Header-Content-Length: 5',
    'Inference-Header-Content-Length: -1',
    'Authorization: Bearer x',
    'X-Request-Id: ../../etc',
    'Accept: text/csv',
    `X-Big: ${'a'.repeat(20_000)}`,
    ' Folded: header',
    'NoColon',
    'Bad Name: x',
    'X-Ctl: a\u0001b',
  ),
  fc.tuple(token, fc.string({ maxLength: 20 })).map(([name, value]) => `X-${name}: ${value}`),
);
const body = fc.oneof(fc.constant(INFER), fc.constant(''), fc.string({ unit: 'binary', maxLength: 200 }));
/** How the body is framed, and whether that leaves the server waiting for bytes that never come. */
const framing = fc.oneof(
  fc.constant({ kind: 'length', delta: 0 }),
  fc.constant({ kind: 'none', delta: 0 }),
  fc.constant({ kind: 'chunked', delta: 0 }),
  fc.integer({ min: -20, max: -1 }).map((delta) => ({ kind: 'length', delta })),
  fc.integer({ min: 1, max: 20 }).map((delta) => ({ kind: 'length', delta })),
  fc.constantFrom(
    { kind: 'bad-chunk-size', delta: 0 },
    { kind: 'chunk-extension', delta: 0 },
    { kind: 'unterminated-chunks', delta: 0 },
  ),
);

/** The bytes of one request, and whether it is complete (else the server would wait for more). */
function requestBytes(parts: [string, string, string, string[], string, { kind: string; delta: number }]): {
  bytes: Buffer;
  complete: boolean;
} {
  const [verb, path, http, headers, text, frame] = parts;
  const payload = Buffer.from(text);
  const head = [`${verb} ${path} ${http}`, 'Host: localhost', ...headers, 'Connection: close'];
  let framed: Buffer = payload;
  let complete = true;
  if (frame.kind === 'length') {
    head.push(`Content-Length: ${Math.max(0, payload.length + frame.delta)}`);
    complete = frame.delta <= 0;
  } else if (frame.kind === 'none') {
    framed = Buffer.alloc(0);
  } else {
    head.push('Transfer-Encoding: chunked');
    const size = frame.kind === 'bad-chunk-size' ? 'zz' : payload.length.toString(16);
    const extension = frame.kind === 'chunk-extension' ? `;${'x'.repeat(20_000)}` : '';
    const last = frame.kind === 'unterminated-chunks' ? '' : '0\r\n\r\n';
    framed = Buffer.concat([Buffer.from(`${size}${extension}\r\n`), payload, Buffer.from(`\r\n${last}`)]);
    complete = frame.kind !== 'unterminated-chunks';
  }
  return { bytes: Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), framed]), complete };
}

function check(server: FuzzServer, answers: Answer[], bytes: Buffer): void {
  server.tally(answers);
  for (const answer of answers) {
    const problem = problemWith(answer, true);
    if (problem !== undefined)
      throw new Error(`${problem}\nrequest: ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
  }
}

async function properties(server: FuzzServer, port: number, seed: number, scale: number): Promise<void> {
  const options = (n: number) => ({ seed, numRuns: Math.max(1, Math.round(runs(n) * scale)) });
  // Raw bytes: whatever the parser makes of them, it answers 400 and closes, or waits for the header timeout.
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (raw) => {
      const bytes = Buffer.from(raw);
      check(server, parseResponses(await exchange(port, bytes, true)), bytes);
    }),
    options(60),
  );
  // Requests of any form, framed right or wrong.
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(method, target, version, fc.array(header, { maxLength: 3 }), body, framing),
      async (parts) => {
        const { bytes, complete } = requestBytes(parts);
        const received = await exchange(port, bytes, complete);
        if (complete) check(server, parseResponses(received), bytes);
      },
    ),
    options(250),
  );
  // Bodies over the limit, declared or streamed, on every route that reads one: 413 before they are read.
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/v2/models/weather/infer', '/invocations', '/predict', '/v2/repository/index'),
      fc.integer({ min: LIMITS.maxBodyBytes + 1, max: LIMITS.maxBodyBytes * 4 }),
      fc.boolean(),
      async (path, size, chunked) => {
        const payload = Buffer.alloc(size, 0x20);
        const answer = await server.send({
          method: 'POST',
          path,
          headers: {
            'content-type': path === '/invocations' ? 'text/csv' : 'application/json',
            authorization: 'Bearer fuzz',
            ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) }),
          },
          body: payload,
        });
        server.tally([answer]);
        const problem =
          problemWith(answer) ?? (answer.status === 413 ? undefined : `status ${answer.status}`);
        if (problem !== undefined) throw new Error(`${size} bytes to ${path}: ${problem}`);
      },
    ),
    options(40),
  );
}

t.test('malformed HTTP, lying lengths and oversized bodies never get a 5xx or a leak', async (t) => {
  const server = await fuzzServer(t, { ...LIMITS, adminToken: 'fuzz' });
  const port = Number(new URL(server.url).port);
  await properties(server, port, FUZZ_SEED + 1, 0.25);
  await server.baseline();
  await properties(server, port, FUZZ_SEED, 1);
  await server.finish();
});
