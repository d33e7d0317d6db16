/**
 * The `v2-grpc` protocol of a run against our own server: the same output, rejects included, byte for byte as
 * in-process scoring and `v2-binary`, for the bundled weather model (one FP32 [N, 6] input) and the titanic
 * fixture (six [N, 1] inputs, INT64 and BYTES among them, and a ZipMap served as FP32).
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline } from '../../lib/index.js';
import { normalizePipelineOptions } from '../../lib/pipeline-options.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { startServers } from './servers.js';

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'models');

t.test('v2-grpc scores to the same bytes as local and v2-binary', async (t) => {
  const dir = await tempDir(t);
  const cases = [
    { model: 'weather', models: undefined, input: WEATHER_CSV, rows: 2922 },
    { model: 'titanic', models: FIXTURES, input: join(FIXTURES, 'data', 'titanic.csv'), rows: undefined },
    { model: 'titanic', models: FIXTURES, input: join(FIXTURES, 'data', 'titanic.bad.csv'), rows: undefined },
  ];
  const weather = await startServers(t);
  const fixtures = await startServers(t, { models: FIXTURES });
  for (const [i, c] of cases.entries()) {
    const server = c.models === undefined ? weather : fixtures;
    const run = async (protocol: 'local' | 'v2-binary' | 'v2-grpc') => {
      const output = join(dir, `${i}-${protocol}.csv`);
      const summary = await createPipeline({
        input: c.input,
        output,
        model: c.model,
        batchSize: 500,
        ...(c.models === undefined ? {} : { models: c.models }),
        ...(protocol === 'local'
          ? {}
          : { url: server.url, protocol, ...(protocol === 'v2-grpc' ? { grpcUrl: server.grpc } : {}) }),
      });
      return {
        summary,
        output: await readFile(output),
        rejects: await readFile(output.replace(/\.csv$/, '.rejects.csv')),
      };
    };
    const local = await run('local');
    const binary = await run('v2-binary');
    const grpc = await run('v2-grpc');
    const name = `${c.model} ${c.input.split('/').pop() ?? ''}`;
    if (c.rows !== undefined) t.equal(grpc.summary.rows.scored, c.rows, `${name}: every row scored`);
    t.equal(grpc.summary.protocol, 'v2-grpc', `${name}: the run says v2-grpc`);
    t.ok(grpc.output.equals(local.output), `${name}: output as local, byte for byte`);
    t.ok(grpc.output.equals(binary.output), `${name}: output as v2-binary, byte for byte`);
    t.ok(grpc.rejects.equals(binary.rejects), `${name}: rejects as v2-binary`);
    t.same(grpc.summary.rows, binary.summary.rows, `${name}: the same counts`);
  }
});

t.test('grpcUrl: given, derived from url, and refused where it does not belong', async (t) => {
  const base = { input: 'in.csv', output: 'out.csv' };
  const o = (extra: object) => normalizePipelineOptions({ ...base, ...extra });
  t.equal(o({ url: 'http://models:8080', protocol: 'v2-grpc' }).grpcUrl, 'grpc://models:8081');
  t.equal(o({ url: 'https://models.example', protocol: 'v2-grpc' }).grpcUrl, 'grpcs://models.example:8081');
  t.equal(o({ url: 'http://[::1]:8080', protocol: 'v2-grpc' }).grpcUrl, 'grpc://[::1]:8081');
  t.equal(o({ url: 'http://a:1', protocol: 'v2-grpc', grpcUrl: 'b:9' }).grpcUrl, 'grpc://b:9');
  t.equal(
    o({ url: 'http://a:1', grpcUrl: 'grpcs://b:9' }).protocol,
    'v2-grpc',
    'grpcUrl alone selects v2-grpc',
  );
  t.equal(o({ url: 'http://a:1', protocol: 'v2-binary' }).grpcUrl, undefined);
  t.throws(() => o({ url: 'http://a:1', protocol: 'v2-json', grpcUrl: 'b:9' }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /`grpcUrl` is for the v2-grpc protocol, not "v2-json"/,
  });
  t.throws(() => o({ url: 'http://a:1', protocol: 'v2-grpc', grpcUrl: 'http://b:9' }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /`grpcUrl`: expected grpc:\/\/host:port/,
  });
  t.throws(() => o({ protocol: 'v2-grpc' }), { code: 'BI_ERR_INVALID_OPTION', message: /needs `url`/ });
});
