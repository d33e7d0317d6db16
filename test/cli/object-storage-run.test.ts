/**
 * `batch-infer run` from and to object storage and https, end to end through the real CLI: an S3-compatible
 * server that nobody here wrote (Ceph's RADOS Gateway, test/support/s3-server.ts) for `s3://` inputs and
 * outputs, CSV and Parquet, and a plain node:http server for an `http://` input. Outputs are compared with
 * the run of the same data from a local file; a failed run leaves no object.
 */
import t from 'tap';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { createS3Client } from '../../lib/io/s3-client.js';
import { startS3, SKIP_WITHOUT_S3 } from '../support/s3-server.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { runCli } from './spawn-cli.js';

async function parquetRows(path: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    return (await connection.runAndReadAll(`SELECT * FROM read_parquet('${path}')`)).getRows();
  } finally {
    connection.closeSync();
  }
}

t.test('s3:// in and out, CSV and Parquet', { skip: SKIP_WITHOUT_S3 }, async (t) => {
  const s3 = await startS3(t);
  // The SDK client a user's run would make: its endpoint and credentials from the environment startS3 set.
  const client = createS3Client();
  t.teardown(() => client.destroy());
  await client.send(new CreateBucketCommand({ Bucket: 'data' }));
  await client.send(
    new PutObjectCommand({
      Bucket: 'data',
      Key: 'in/weather.csv',
      Body: await readFile(WEATHER_CSV),
    }),
  );
  const dir = await tempDir(t);
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: s3.env });
  const object = async (key: string): Promise<Buffer> => {
    const answer = await client.send(new GetObjectCommand({ Bucket: 'data', Key: key }));
    return Buffer.from(
      await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
  };

  const local = await cli(['run', '-i', WEATHER_CSV, '-o', join(dir, 'local.csv')]);
  t.equal(local.code, 0, local.code === 0 ? 'local run' : local.stderr);
  const csv = await cli(['run', '-i', 's3://data/in/weather.csv', '-o', 's3://data/out/scored.csv']);
  t.equal(csv.code, 0, csv.code === 0 ? 's3 CSV → s3 CSV' : csv.stderr);
  t.equal(
    (await object('out/scored.csv')).toString(),
    await readFile(join(dir, 'local.csv'), 'utf8'),
    'byte for byte the local run',
  );
  // The side files of an object output go to the working directory, named after the object.
  t.ok((await stat(join(dir, 'scored.summary.json'))).isFile());

  const parquet = await cli(['run', '-i', 's3://data/in/weather.csv', '-o', 's3://data/out/scored.parquet']);
  t.equal(parquet.code, 0, parquet.code === 0 ? 's3 CSV → s3 Parquet' : parquet.stderr);
  await writeFile(join(dir, 'downloaded.parquet'), await object('out/scored.parquet'));
  t.equal((await parquetRows(join(dir, 'downloaded.parquet'))).length, 2922);

  const back = await cli([
    'run',
    '-i',
    's3://data/out/scored.parquet',
    '-o',
    join(dir, 'back.csv'),
    '--columns',
    'date',
  ]);
  t.equal(back.code, 0, back.code === 0 ? 's3 Parquet (ranged reads) → local CSV' : back.stderr);
  t.equal((await readFile(join(dir, 'back.csv'), 'utf8')).trim().split('\n').length, 2923);

  // A shard's part goes under the output prefix, as in a directory.
  const shard = await cli([
    'run',
    '-i',
    's3://data/in/weather.csv',
    '-o',
    's3://data/parts/',
    '--shard',
    '1/2',
  ]);
  t.equal(shard.code, 0, shard.code === 0 ? 'a shard to s3://…/parts/' : shard.stderr);
  t.equal(
    (await object('parts/part-00001-of-00002.csv')).toString().split('\n')[0]?.split(',')[0],
    'location',
  );

  const failed = await cli([
    'run',
    '-i',
    's3://data/in/weather.csv',
    '-o',
    's3://data/out/failed.csv',
    '--columns',
    'no_such_column',
  ]);
  t.equal(failed.code, 65, 'a run that fails once the output is open (a kept column the input lacks)');
  await t.rejects(object('out/failed.csv'), { name: 'NoSuchKey' }, 'leaves no object');
  const missing = await cli(['run', '-i', 's3://data/in/nothing.csv', '-o', join(dir, 'x.csv')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /BI_ERR_INPUT_NOT_FOUND/);
});

t.test('an http:// input is the same run as the local file', async (t) => {
  const body = await readFile(WEATHER_CSV);
  const server = createServer((req, res) => {
    if (req.url !== '/weather.csv') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = await tempDir(t);
  const local = await runCli(['run', '-i', WEATHER_CSV, '-o', join(dir, 'local.csv')]);
  t.equal(local.code, 0);
  const remote = await runCli(['run', '-i', `${base}/weather.csv`, '-o', join(dir, 'remote.csv')]);
  t.equal(remote.code, 0, remote.code === 0 ? 'http input' : remote.stderr);
  t.equal(await readFile(join(dir, 'remote.csv'), 'utf8'), await readFile(join(dir, 'local.csv'), 'utf8'));
  const missing = await runCli(['run', '-i', `${base}/gone.csv`, '-o', join(dir, 'gone.csv')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /BI_ERR_INPUT_NOT_FOUND/);
});
