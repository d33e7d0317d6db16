/**
 * `s3://` inputs and outputs against a real S3-compatible server, Ceph's RADOS Gateway started for this file
 * (test/support/s3-server.ts): streamed and ranged reads, the errors a user meets (no such key or bucket, a
 * wrong secret, an unknown key, no server), and the sink's promise that an object appears only at commit: not
 * when the stream ends, not after discard(), not after a failed upload, not after a SIGKILL mid-upload.
 */
import t from 'tap';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  type S3Client as Client,
} from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { openS3Bytes } from '../../lib/io/s3-bytes.js';
import { createS3Client, parseS3Url } from '../../lib/io/s3-client.js';
import { PART_SIZE, s3Sink, uploadFileToS3 } from '../../lib/io/s3-sink.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { SKIP_WITHOUT_S3, startS3, type TestS3 } from '../support/s3-server.js';
import { failure, tempDir } from '../helpers.js';

const BUCKET = 'batch-infer-test';

/** `size` bytes of CSV-like lines, the same every time, in chunks of about 64 kB. */
function* csvBytes(size: number): Generator<Buffer> {
  let line = 0;
  let left = size;
  while (left > 0) {
    let text = '';
    while (text.length < 65_536) text += `${line++},${(line * 7919) % 10_007},row\n`;
    const chunk = Buffer.from(text.slice(0, Math.min(left, text.length)));
    left -= chunk.length;
    yield chunk;
  }
}

function sha256(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function exists(client: Client, url: string): Promise<boolean> {
  const { bucket, key } = parseS3Url(url);
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (err: unknown) => {
      if ((err as { name?: string }).name === 'NotFound') return false;
      throw err;
    },
  );
}

async function uploadsOf(client: Client, url: string): Promise<string[]> {
  const { bucket, key } = parseS3Url(url);
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (listed.Uploads ?? []).map((u) => u.UploadId ?? '');
}

/** A client of the test server with other credentials. */
function clientWith(s3: TestS3, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

t.test('S3 against Ceph RADOS Gateway', { skip: SKIP_WITHOUT_S3 }, async (t) => {
  const s3 = await startS3(t);
  const admin = createS3Client();
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));

  const big = `s3://${BUCKET}/in/big.csv`;
  const bigSize = 3 * PART_SIZE + 12_345;
  const bigHash = sha256(csvBytes(bigSize));

  t.test('the sink writes a multipart object that appears only at commit', async (t) => {
    const sink = s3Sink(big, { contentType: 'text/csv' });
    t.equal(sink.kind, 'bytes');
    t.equal(sink.name, big);
    await pipeline(Readable.from(csvBytes(bigSize)), sink.stream);
    t.equal(await exists(admin, big), false, 'not there when the stream has ended');
    t.equal((await uploadsOf(admin, big)).length, 1, 'a multipart upload in progress');
    await sink.commit();
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'in/big.csv' }));
    t.equal(head.ContentLength, bigSize);
    t.equal(head.ContentType, 'text/csv');
    t.match(head.ETag, /-4"$/, 'four parts');
    t.same(await uploadsOf(admin, big), [], 'no upload left');
  });

  t.test('bytes() streams: a paused reader holds little, and the whole object arrives', async (t) => {
    const input = openS3Bytes(big);
    t.equal(input.name, big);
    t.equal(await input.size(), bigSize);
    const stream = input.bytes();
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    stream.pause();
    await sleep(300);
    t.ok(first.length + stream.readableLength < 1 << 20, `${stream.readableLength} bytes waiting`);
    const rest = await drain(stream);
    t.equal(sha256([first, rest]), bigHash);
  });

  t.test('ranges: any slice, pinned to the version whose length was read', async (t) => {
    const whole = Buffer.concat([...csvBytes(bigSize)]);
    const reader = openS3Bytes(big).rangeReader();
    t.equal(await reader.byteLength(), bigSize);
    for (const [start, end] of [
      [0, 4],
      [PART_SIZE - 10, PART_SIZE + 10],
      [bigSize - 8, bigSize],
      [5, 5],
    ] as const)
      t.same(Buffer.from(await reader.read(start, end)), whole.subarray(start, end), `${start}–${end}`);

    const url = `s3://${BUCKET}/in/changing.parquet`;
    await admin.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'in/changing.parquet', Body: 'version one' }),
    );
    const changing = openS3Bytes(url).rangeReader();
    t.equal(await changing.byteLength(), 11);
    await admin.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'in/changing.parquet', Body: 'version two' }),
    );
    const err = await failure(changing.read(0, 7));
    t.equal(err.code, 'BI_ERR_ACCESS');
    t.match(err.message, /changed while it was being read/);
  });

  t.test('an object stored with Content-Encoding gzip is decoded; its size is unknown', async (t) => {
    const body = gzipSync('a,b\n1,2\n');
    await admin.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'in/zipped.csv', Body: body, ContentEncoding: 'gzip' }),
    );
    const input = openS3Bytes(`s3://${BUCKET}/in/zipped.csv`);
    t.equal((await drain(input.bytes())).toString(), 'a,b\n1,2\n');
    t.equal(await input.size(), undefined);
    t.equal(await input.rangeReader().byteLength(), body.length);
  });

  t.test('no such key is not found; no such bucket is access', async (t) => {
    for (const [url, code, reason] of [
      [`s3://${BUCKET}/in/missing.csv`, 'BI_ERR_INPUT_NOT_FOUND', /no such object \(NoSuchKey, HTTP 404\)/],
      ['s3://no-such-bucket/in.csv', 'BI_ERR_ACCESS', /no such bucket \(NoSuchBucket, HTTP 404\)/],
    ] as const) {
      const input = openS3Bytes(url);
      for (const [what, attempt] of [
        ['bytes()', () => drain(input.bytes())],
        ['size()', () => input.size()],
        ['read()', () => input.rangeReader().read(0, 4)],
      ] as const) {
        const err = await failure(attempt());
        t.equal(err.code, code, `${url} ${what}`);
        t.match(err.message, reason, `${url} ${what}`);
        t.match(err.message, url);
      }
    }
  });

  t.test('a wrong secret and an unknown key are refused, and neither is named', async (t) => {
    for (const [client, reason] of [
      [
        clientWith(s3, s3.accessKeyId, 'wrong-secret-1234'),
        /secret key does not match the access key \(SignatureDoesNotMatch, HTTP 403\)/,
      ],
      [
        clientWith(s3, 'AKUNKNOWN', 'wrong-secret-1234'),
        /access key is not known to the server \(InvalidAccessKeyId, HTTP 403\)/,
      ],
    ] as const) {
      const input = openS3Bytes(big, { client });
      for (const attempt of [
        () => drain(input.bytes()),
        () => input.size(),
        () => input.rangeReader().read(0, 4),
      ]) {
        const err = await failure(attempt());
        t.equal(err.code, 'BI_ERR_ACCESS');
        t.match(err.message, reason);
        t.notMatch(err.message, /wrong-secret|AKUNKNOWN/);
      }
      const sink = s3Sink(`s3://${BUCKET}/out/refused.csv`, { client });
      await pipeline(Readable.from(['a,b\n']), sink.stream);
      const err = await failure(sink.commit());
      t.equal(err.code, 'BI_ERR_ACCESS');
      t.match(err.message, reason);
      await sink.discard();
    }
    t.equal(await exists(admin, `s3://${BUCKET}/out/refused.csv`), false);
  });

  t.test('no server: a clear access error', async (t) => {
    const client = new S3Client({
      region: s3.region,
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      maxAttempts: 1,
    });
    const err = await failure(drain(openS3Bytes(big, { client }).bytes()));
    t.equal(err.code, 'BI_ERR_ACCESS');
    t.match(
      err.message,
      /Cannot reach the S3 server for "s3:\/\/batch-infer-test\/in\/big\.csv": .*127\.0\.0\.1:9/,
    );
    const sink = s3Sink(`s3://${BUCKET}/out/nowhere.csv`, { client });
    sink.stream.write('a,b\n');
    const streamErr = await new Promise<{ code?: string }>((resolve) => sink.stream.once('error', resolve));
    t.equal(streamErr.code, 'BI_ERR_ACCESS', 'the sink fails its stream before a part is full');
    await sink.discard();
  });

  t.test('a small output is one PutObject at commit', async (t) => {
    const url = `s3://${BUCKET}/out/small.csv`;
    const sink = s3Sink(url);
    await pipeline(Readable.from(['a,b\n', '1,2\n']), sink.stream);
    t.equal(await exists(admin, url), false);
    await sink.commit();
    t.equal((await drain(openS3Bytes(url).bytes())).toString(), 'a,b\n1,2\n');
  });

  t.test('discard() aborts the multipart upload: no object, no parts left', async (t) => {
    const url = `s3://${BUCKET}/out/discarded.csv`;
    const sink = s3Sink(url);
    await pipeline(Readable.from(csvBytes(2 * PART_SIZE + 1)), sink.stream);
    t.equal((await uploadsOf(admin, url)).length, 1);
    await sink.discard();
    t.equal(await exists(admin, url), false);
    t.same(await uploadsOf(admin, url), []);
  });

  t.test('a failed run: the stream errors mid-way, discard() leaves nothing', async (t) => {
    const url = `s3://${BUCKET}/out/failed.csv`;
    const sink = s3Sink(url);
    async function* failing(): AsyncGenerator<Buffer> {
      yield* csvBytes(PART_SIZE + 100);
      throw new Error('the model crashed');
    }
    t.match((await failure(pipeline(Readable.from(failing()), sink.stream))).message, /model crashed/);
    await sink.discard();
    t.equal(await exists(admin, url), false);
    t.same(await uploadsOf(admin, url), []);
  });

  t.test('an upload refused mid-way fails the stream, not the process', async (t) => {
    const url = 's3://no-such-bucket/out.csv';
    const sink = s3Sink(url);
    const err = await failure(pipeline(Readable.from(csvBytes(3 * PART_SIZE)), sink.stream));
    t.equal(err.code, 'BI_ERR_ACCESS');
    t.match(err.message, /Cannot write "s3:\/\/no-such-bucket\/out\.csv": no such bucket/);
    await sink.discard();
  });

  t.test('SIGKILL mid-upload leaves no object', async (t) => {
    const url = `s3://${BUCKET}/out/killed.csv`;
    const sinkModule = join(PACKAGE_ROOT, 'lib', 'io', 's3-sink.ts');
    // The child writes three parts' worth and never commits; it is killed once parts are on the server.
    const script = `
      const { s3Sink, PART_SIZE } = await import(${JSON.stringify(sinkModule)});
      const sink = s3Sink(${JSON.stringify(url)});
      const chunk = Buffer.alloc(1 << 20, 'x');
      for (let i = 0; i < 3 * (PART_SIZE >> 20); i++)
        if (!sink.stream.write(chunk)) await new Promise((r) => sink.stream.once('drain', r));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script],
      {
        env: { ...process.env, ...s3.env },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const { bucket, key } = parseS3Url(url);
    let parts = 0;
    for (let i = 0; i < 600 && parts < 2; i++) {
      await sleep(100);
      const [uploadId] = await uploadsOf(admin, url);
      if (uploadId !== undefined)
        parts =
          (await admin.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))).Parts
            ?.length ?? 0;
    }
    t.ok(parts >= 2, `${parts} parts uploaded before the kill`);
    child.kill('SIGKILL');
    await exited;
    t.equal(await exists(admin, url), false, 'no object');
    t.equal((await uploadsOf(admin, url)).length, 1, 'an incomplete upload a lifecycle rule will remove');
  });

  t.test('uploadFileToS3 streams a file in parts; a missing file or an abort leaves nothing', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'scored.parquet');
    await writeFile(path, Buffer.concat([...csvBytes(PART_SIZE + 777)]));
    const url = `s3://${BUCKET}/out/scored.parquet`;
    await uploadFileToS3(path, url, { contentType: 'application/vnd.apache.parquet' });
    t.equal(sha256([await drain(openS3Bytes(url).bytes())]), sha256(csvBytes(PART_SIZE + 777)));

    const missing = await failure(
      uploadFileToS3(join(dir, 'nope.parquet'), `s3://${BUCKET}/out/nope.parquet`),
    );
    t.equal(missing.code, 'BI_ERR_OUTPUT_WRITE');
    t.match(missing.message, /nope\.parquet.*ENOENT|ENOENT.*nope\.parquet/);

    const abortedUrl = `s3://${BUCKET}/out/aborted.parquet`;
    const controller = new AbortController();
    const upload = uploadFileToS3(path, abortedUrl, { signal: controller.signal });
    setImmediate(() => controller.abort());
    t.equal((await failure(upload)).name, 'AbortError');
    t.equal(await exists(admin, abortedUrl), false);
    t.same(await uploadsOf(admin, abortedUrl), []);
  });

  t.test('parseS3Url', async (t) => {
    t.same(parseS3Url('s3://bucket/a/b c.csv'), { bucket: 'bucket', key: 'a/b c.csv' });
    for (const bad of ['s3://bucket', 's3://bucket/', 's3://Bucket/x', 'https://bucket/x', 's3://ab/x'])
      t.equal(
        (await failure(Promise.resolve().then(() => parseS3Url(bad)))).code,
        'BI_ERR_INVALID_OPTION',
        bad,
      );
  });
});
