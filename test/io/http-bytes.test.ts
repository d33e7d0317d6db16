import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { openHttpBytes, redactUrl } from '../../lib/io/http-bytes.js';
import { failure, tempDir } from '../helpers.js';

// https:// inputs against a real node:http server on 127.0.0.1:0 (and node:https with a certificate made by
// openssl): streaming without holding the body, ranges for Parquet, error statuses, gzip, redirects.

const CSV = 'a,b\n1,2\n3,4\n';
const DATA = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i},${i * 7}\n`).join(''));

/** Serves `bytes` honouring one `Range: bytes=a-b` like a static file server. */
function sendRanged(req: IncomingMessage, res: ServerResponse, bytes: Buffer): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range === null) {
    res.writeHead(200, { 'content-length': bytes.length });
    res.end(bytes);
    return;
  }
  const start = Number(range[1]);
  const end = range[2] === '' ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
  if (start >= bytes.length) {
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
    res.end();
    return;
  }
  res.writeHead(206, {
    'content-range': `bytes ${start}-${end}/${bytes.length}`,
    'content-length': end - start + 1,
  });
  res.end(bytes.subarray(start, end + 1));
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/data.csv': (req, res) => sendRanged(req, res, DATA),
  '/empty.csv': (req, res) => sendRanged(req, res, Buffer.alloc(0)),
  '/no-ranges.csv': (_req, res) => res.end(DATA),
  '/missing.csv': (_req, res) => res.writeHead(404).end('no such file'),
  '/gone.csv': (_req, res) => res.writeHead(410).end(),
  '/broken.csv': (_req, res) => res.writeHead(500).end('stack trace'),
  '/forbidden.csv': (_req, res) => res.writeHead(403).end(),
  '/gzip.csv': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(CSV)),
  '/zstd.csv': (_req, res) => res.writeHead(200, { 'content-encoding': 'zstd' }).end('?'),
  '/moved.csv': (_req, res) => res.writeHead(301, { location: '/hop.csv' }).end(),
  '/hop.csv': (_req, res) => res.writeHead(302, { location: '/data.csv?from=hop' }).end(),
  '/endless-redirects.csv': (req, res) => {
    const hop = Number(new URL(req.url ?? '', 'http://x').searchParams.get('hop') ?? 0);
    res.writeHead(302, { location: `/endless-redirects.csv?hop=${hop + 1}` }).end();
  },
  '/private.csv': (req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('reader:s3cr:t').toString('base64')}`)
      res.writeHead(401).end();
    else res.end(CSV);
  },
};

async function listen(t: Test, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startHttp(t: Test, extra: Record<string, Handler> = {}): Promise<string> {
  const all = { ...routes, ...extra };
  const server = createServer((req, res) => {
    const handler = all[new URL(req.url ?? '/', 'http://x').pathname];
    if (handler === undefined) res.writeHead(404).end();
    else handler(req, res);
  });
  return `http://127.0.0.1:${await listen(t, server)}`;
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

t.test('bytes() streams: the first chunk arrives while the server is still sending', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const chunk = Buffer.alloc(1 << 20, 'x');
  const base = await startHttp(t, {
    '/big.csv': (_req, res) => {
      res.writeHead(200, { 'content-length': chunk.length * 8 });
      res.write(chunk);
      // The rest is sent only once the client has the first bytes: a client holding the whole body would wait
      // for ever (and the test would time out).
      void released.then(() => {
        for (let i = 1; i < 8; i++) res.write(chunk);
        res.end();
      });
    },
  });
  const input = openHttpBytes(`${base}/big.csv`);
  t.equal(await input.size(), chunk.length * 8);
  let bytes = 0;
  for await (const part of input.bytes()) {
    bytes += (part as Buffer).length;
    release();
  }
  t.equal(bytes, chunk.length * 8);
});

t.test('ranges: byteLength from one probe, reads of any slice, an empty range', async (t) => {
  const base = await startHttp(t);
  const reader = openHttpBytes(`${base}/data.csv`).rangeReader();
  t.equal(await reader.byteLength(), DATA.length);
  t.same(Buffer.from(await reader.read(0, 10)), DATA.subarray(0, 10));
  t.same(Buffer.from(await reader.read(DATA.length - 100, DATA.length)), DATA.subarray(-100));
  t.equal((await reader.read(5, 5)).byteLength, 0);
  const past = await failure(reader.read(DATA.length + 10, DATA.length + 20));
  t.equal(past.code, 'BI_ERR_ACCESS');
  t.match(past.message, /past its end/);
  t.equal(await openHttpBytes(`${base}/empty.csv`).size(), 0);
});

t.test(
  'a server that ignores Range: the text stream works, the range reader says why it cannot',
  async (t) => {
    const base = await startHttp(t);
    const input = openHttpBytes(`${base}/no-ranges.csv`);
    t.equal(await input.size(), DATA.length);
    t.equal(await text(input.bytes()), DATA.toString());
    const err = await failure(input.rangeReader().byteLength());
    t.equal(err.code, 'BI_ERR_ACCESS');
    t.match(err.message, /ignores Range requests/);
    t.match((await failure(input.rangeReader().read(0, 10))).message, /ignores Range requests/);
  },
);

t.test('error statuses: 404 and 410 are not found, others and refused connections are access', async (t) => {
  const base = await startHttp(t);
  for (const [path, code, status] of [
    ['/missing.csv', 'BI_ERR_INPUT_NOT_FOUND', /404 Not Found/],
    ['/gone.csv', 'BI_ERR_INPUT_NOT_FOUND', /410 Gone/],
    ['/broken.csv', 'BI_ERR_ACCESS', /500 Internal Server Error/],
    ['/forbidden.csv', 'BI_ERR_ACCESS', /403 Forbidden/],
    ['/private.csv', 'BI_ERR_ACCESS', /401 Unauthorized/],
  ] as const) {
    const input = openHttpBytes(`${base}${path}`);
    const streamed = await failure(text(input.bytes()));
    t.equal(streamed.code, code, `${path}: bytes()`);
    t.match(streamed.message, status);
    t.notMatch(streamed.message, /stack trace/, 'the body is not quoted');
    t.equal((await failure(input.size())).code, code, `${path}: size()`);
    t.equal((await failure(input.rangeReader().read(0, 4))).code, code, `${path}: read()`);
  }
  const closed = createServer();
  const port = await listen(t, closed);
  await new Promise((resolve) => closed.close(resolve));
  const refused = await failure(text(openHttpBytes(`http://127.0.0.1:${port}/x.csv`).bytes()));
  t.equal(refused.code, 'BI_ERR_ACCESS');
  t.match(refused.message, /Cannot reach "http:\/\/127\.0\.0\.1:\d+\/x\.csv": .*ECONNREFUSED/);
});

t.test(
  'gzip in transit is decoded; its size is not the stored one; an unknown coding is refused',
  async (t) => {
    const base = await startHttp(t);
    const input = openHttpBytes(`${base}/gzip.csv`);
    t.equal(await text(input.bytes()), CSV);
    t.equal(await input.size(), undefined);
    const zstd = await failure(text(openHttpBytes(`${base}/zstd.csv`).bytes()));
    t.equal(zstd.code, 'BI_ERR_ACCESS');
    t.match(zstd.message, /Content-Encoding "zstd"/);
  },
);

t.test('redirects are followed, up to a bound', async (t) => {
  const base = await startHttp(t);
  t.equal(await text(openHttpBytes(`${base}/moved.csv`).bytes()), DATA.toString());
  t.equal(await openHttpBytes(`${base}/moved.csv`).rangeReader().byteLength(), DATA.length);
  const loop = await failure(text(openHttpBytes(`${base}/endless-redirects.csv`).bytes()));
  t.equal(loop.code, 'BI_ERR_ACCESS');
  t.match(loop.message, /302 Found \(more than 5 redirects\?\)/);
});

t.test('a password in the URL is sent as Basic authorization and never named', async (t) => {
  const base = await startHttp(t);
  const url = `${base.replace('http://', 'http://reader:s3cr%3At@')}/private.csv?X-Amz-Signature=abc123&day=1`;
  const input = openHttpBytes(url);
  t.equal(await text(input.bytes()), CSV);
  t.equal(
    input.name,
    `${base.replace('http://', 'http://reader:***@')}/private.csv?X-Amz-Signature=***&day=1`,
  );
  const wrong = openHttpBytes(url.replace('s3cr%3At', 'nope'));
  const err = await failure(text(wrong.bytes()));
  t.notMatch(err.message, /nope|abc123/);
});

t.test('redactUrl', async (t) => {
  t.equal(redactUrl('https://h/x.csv'), 'https://h/x.csv');
  t.equal(redactUrl('https://u:p@h/x.csv#frag'), 'https://u:***@h/x.csv');
  t.equal(
    redactUrl('https://b.s3.amazonaws.com/k?X-Amz-Credential=AK%2F1&X-Amz-Security-Token=t&X-Amz-Expires=60'),
    'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Expires=60',
  );
  t.equal(
    redactUrl('https://a.blob.core.windows.net/c/x?sv=2020&sig=zz'),
    'https://a.blob.core.windows.net/c/x?sv=2020&sig=***',
  );
  t.equal(redactUrl('https://h/x?api_key=1&access_token=2'), 'https://h/x?api_key=***&access_token=***');
});

t.test('aborting the signal ends the stream and the request', async (t) => {
  let closed!: () => void;
  const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
  const base = await startHttp(t, {
    '/slow.csv': (_req, res) => {
      res.writeHead(200);
      res.write('a,b\n');
      res.on('close', closed);
    },
  });
  const controller = new AbortController();
  const stream = openHttpBytes(`${base}/slow.csv`, { signal: controller.signal }).bytes();
  const first: unknown = await new Promise((resolve) => stream.once('data', resolve));
  t.equal(String(first), 'a,b\n');
  controller.abort();
  const err = await failure(text(stream));
  t.equal(err.name, 'AbortError');
  await serverSawClose;
});

t.test('destroying the stream mid-body closes the connection', async (t) => {
  let closed!: () => void;
  const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
  const base = await startHttp(t, {
    '/endless.csv': (_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('1,2\n'), 5);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    },
  });
  const stream = openHttpBytes(`${base}/endless.csv`).bytes();
  await new Promise((resolve) => stream.once('data', resolve));
  stream.destroy();
  await serverSawClose;
  t.ok(stream.destroyed);
});

t.test(
  'https with a self-signed certificate: trusted through the global dispatcher, else refused',
  async (t) => {
    const dir = await tempDir(t);
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const [keyPem, certPem] = await Promise.all([readFile(key), readFile(cert)]);
    const server = createHttpsServer({ key: keyPem, cert: certPem }, (req, res) =>
      sendRanged(req, res, DATA),
    );
    const url = `https://127.0.0.1:${await listen(t, server)}/data.csv`;

    const untrusted = await failure(text(openHttpBytes(url).bytes()));
    t.equal(untrusted.code, 'BI_ERR_ACCESS');
    t.match(untrusted.message, /self-signed|SELF_SIGNED/i);

    const previous = getGlobalDispatcher();
    const trusting = new Agent({ connect: { ca: certPem } });
    setGlobalDispatcher(trusting);
    t.teardown(async () => {
      setGlobalDispatcher(previous);
      await trusting.close();
    });
    const input = openHttpBytes(url);
    const digest = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
    t.equal(digest(await text(input.bytes())), digest(DATA));
    t.same(Buffer.from(await input.rangeReader().read(100, 200)), DATA.subarray(100, 200));
  },
);
