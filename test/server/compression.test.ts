/**
 * Issue #18: HTTP compression. Request bodies in gzip or deflate are inflated, with the body limit on the
 * inflated size (a zip bomb is 413); other encodings are 415. Answers of 1 KiB or more are compressed for clients
 * that accept gzip or deflate, with `Vary: Accept-Encoding`; small ones never are.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import t from 'tap';
import { startServer } from '../helpers.js';

const ROWS = 100;
const body = JSON.stringify({
  id: 'z',
  inputs: [
    {
      name: 'features',
      shape: [ROWS, 6],
      datatype: 'FP32',
      data: Array.from({ length: ROWS * 6 }, (_, k) => Math.sin(k)),
    },
  ],
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as received, not decoded. */
  raw: Buffer;
}

/** One request with node:http, which (unlike fetch) neither adds Accept-Encoding nor decodes the answer. */
function send(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const infer = (url: string, headers: Record<string, string>, payload: Buffer | string) =>
  send(url, '/v2/models/weather/infer', { method: 'POST', headers, body: payload });

t.test('gzip and deflate request bodies get the same answer as plain ones', async (t) => {
  const url = await startServer(t);
  const plain = await infer(url, {}, body);
  t.equal(plain.status, 200);
  const cases: [string, Buffer][] = [
    ['gzip', gzipSync(body)],
    ['GZIP', gzipSync(body)],
    ['x-gzip', gzipSync(body)],
    ['deflate', deflateSync(body)],
    ['identity', Buffer.from(body)],
  ];
  for (const [encoding, payload] of cases) {
    const res = await infer(url, { 'content-encoding': encoding }, payload);
    t.equal(res.status, 200, encoding);
    t.equal(res.raw.toString(), plain.raw.toString(), `${encoding}: same answer`);
  }
});

t.test('the body limit applies to the inflated size: a zip bomb is 413', async (t) => {
  const limit = 64 * 1024;
  const url = await startServer(t, { maxBodyBytes: limit });
  const bomb = gzipSync(Buffer.alloc(1024 * 1024));
  t.ok(bomb.length < limit, `1 MiB of zeros is ${bomb.length} bytes gzipped`);
  const res = await infer(url, { 'content-encoding': 'gzip' }, bomb);
  t.equal(res.status, 413);
  t.match(JSON.parse(res.raw.toString()), { error: /exceeds the limit of 65536 bytes/ });
  // A body under the limit once inflated is fine, even if its compressed size says nothing about it.
  const small = await infer(url, { 'content-encoding': 'gzip' }, gzipSync(body));
  t.equal(small.status, 200);
});

t.test('other encodings are 415 naming what is supported; corrupt data is 400', async (t) => {
  const url = await startServer(t);
  for (const encoding of ['br', 'compress', 'gzip, gzip', 'zstd', 'constructor', '__proto__']) {
    const res = await infer(url, { 'content-encoding': encoding }, body);
    t.equal(res.status, 415, encoding);
    t.equal(res.headers['accept-encoding'], 'gzip, deflate, identity', 'what is supported (RFC 7694)');
    t.match(JSON.parse(res.raw.toString()), {
      error: /Content-Encoding ".*" is not supported: send gzip, deflate or identity/,
    });
  }
  const corrupt = await infer(url, { 'content-encoding': 'gzip' }, Buffer.from('not gzip at all'));
  t.equal(corrupt.status, 400);
  t.match(JSON.parse(corrupt.raw.toString()), { error: /not valid gzip data/ });
  const truncated = await infer(url, { 'content-encoding': 'deflate' }, deflateSync(body).subarray(0, 50));
  t.equal(truncated.status, 400);
  // The connection stays usable after each refusal (the body was read to its end).
  t.equal((await infer(url, {}, body)).status, 200);
});

t.test('answers of 1 KiB or more are compressed for clients that ask', async (t) => {
  const url = await startServer(t);
  const plain = await infer(url, {}, body);
  t.equal(plain.headers['content-encoding'], undefined, 'not asked: not compressed');
  t.match(plain.headers.vary, /Accept-Encoding/);
  t.ok(plain.raw.length > 1024, `the answer is ${plain.raw.length} bytes`);

  const gz = await infer(url, { 'accept-encoding': 'gzip, deflate, br' }, body);
  t.equal(gz.status, 200);
  t.equal(gz.headers['content-encoding'], 'gzip');
  t.match(gz.headers.vary, /Accept-Encoding/);
  t.equal(Number(gz.headers['content-length']), gz.raw.length);
  t.ok(gz.raw.length < plain.raw.length, `${gz.raw.length} bytes instead of ${plain.raw.length}`);
  t.same(JSON.parse(gunzipSync(gz.raw).toString()), JSON.parse(plain.raw.toString()), 'same JSON');

  const df = await infer(url, { 'accept-encoding': 'deflate' }, body);
  t.equal(df.headers['content-encoding'], 'deflate');
  t.equal(inflateSync(df.raw).toString(), plain.raw.toString());

  const refused = await infer(url, { 'accept-encoding': 'gzip;q=0, identity' }, body);
  t.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal');
  t.equal(refused.raw.toString(), plain.raw.toString());

  // Both ways at once.
  const both = await infer(url, { 'content-encoding': 'gzip', 'accept-encoding': 'gzip' }, gzipSync(body));
  t.equal(gunzipSync(both.raw).toString(), plain.raw.toString());

  // An object body (model metadata of a model with a large contract would be one) is compressed as JSON.
  const metrics = await send(url, '/metrics', { headers: { 'accept-encoding': 'gzip' } });
  t.equal(metrics.headers['content-encoding'], 'gzip');
  t.match(gunzipSync(metrics.raw).toString(), /^# HELP/m);
});

t.test('small answers stay uncompressed', async (t) => {
  const url = await startServer(t);
  for (const path of ['/v2', '/v2/health/ready', '/v2/models/weather/ready', '/v2/models/nope']) {
    const res = await send(url, path, { headers: { 'accept-encoding': 'gzip' } });
    t.equal(res.headers['content-encoding'], undefined, path);
    t.doesNotThrow(() => JSON.parse(res.raw.toString()) as unknown, `${path} is plain JSON`);
  }
  const config = await send(url, '/v2/models/weather/config', { headers: { 'accept-encoding': 'gzip' } });
  t.equal(config.status, 200);
  t.ok(config.raw.length < 1024 && config.headers['content-encoding'] === undefined, 'the config is small');
});
