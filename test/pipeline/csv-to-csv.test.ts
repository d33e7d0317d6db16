import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createPipeline, isBatchInferError, ErrorCodes } from '../../lib/index.js';
import { startServer, tempDir, WEATHER_CSV } from '../helpers.js';

const LABELS = ['drizzle', 'fog', 'rain', 'snow', 'sun'];

t.test(
  'CSV → server over HTTP → CSV: every row, input columns unchanged, probabilities sum to 1',
  async (t) => {
    const url = await startServer(t);
    const dir = await tempDir(t);
    const output = join(dir, 'out.csv');
    const summary = await createPipeline({ input: WEATHER_CSV, output, url, batchSize: 100, concurrency: 3 });
    t.equal(summary.status, 'succeeded');
    t.same(summary.rows, { read: 2922, scored: 2922, rejected: 0 });
    t.same(summary.model, { name: 'weather', version: 1 });
    // The server's metadata decides: binary tensors when it lists the extension, JSON otherwise.
    const { extensions } = (await (await fetch(`${url}/v2`)).json()) as { extensions: string[] };
    t.equal(summary.protocol, extensions.includes('binary_tensor_data') ? 'v2-binary' : 'v2-json');
    const input = parse(await readFile(WEATHER_CSV));
    const out = parse(await readFile(output));
    t.same(out[0], [...(input[0] as string[]), 'prediction', ...LABELS.map((l) => `probability_${l}`)]);
    t.equal(out.length, input.length);
    let bad = 0;
    for (let i = 1; i < out.length; i++) {
      const row = out[i] as string[];
      if (row.slice(0, 7).join() !== (input[i] as string[]).join()) bad++;
      const probs = row.slice(8).map(Number);
      if (Math.abs(probs.reduce((a, b) => a + b, 0) - 1) > 1e-5) bad++;
      if (row[7] !== LABELS[probs.indexOf(Math.max(...probs))]) bad++;
    }
    t.equal(bad, 0, 'rows in order, passthrough exact, prediction = argmax, sums = 1');
    t.equal(
      await readFile(join(dir, 'out.rejects.csv'), 'utf8'),
      'location,date,precipitation,temp_max,temp_min,wind,weather,line,error\n',
    );
  },
);

t.test('HTTP (JSON and binary tensors) and in-process scoring give byte-identical output', async (t) => {
  const url = await startServer(t);
  const dir = await tempDir(t);
  await createPipeline({ input: WEATHER_CSV, output: join(dir, 'json.csv'), url, protocol: 'v2-json' });
  const local = await createPipeline({ input: WEATHER_CSV, output: join(dir, 'local.csv') });
  t.equal(local.protocol, 'local');
  t.ok((await readFile(join(dir, 'json.csv'))).equals(await readFile(join(dir, 'local.csv'))));
  const { extensions } = (await (await fetch(`${url}/v2`)).json()) as { extensions: string[] };
  if (extensions.includes('binary_tensor_data')) {
    await createPipeline({ input: WEATHER_CSV, output: join(dir, 'bin.csv'), url, protocol: 'v2-binary' });
    t.ok((await readFile(join(dir, 'bin.csv'))).equals(await readFile(join(dir, 'local.csv'))), 'v2-binary');
  }
});

t.test('bad rows go to rejects with their source line and reason; input = output + rejects', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.csv');
  await writeFile(
    input,
    [
      '\uFEFFlocation,date,precipitation,temp_max,temp_min,wind,weather',
      'Seattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle',
      'Seattle,2012-02-30,0.0,12.8,5.0,4.7,sun',
      '"Seattle, WA",2012-01-03,abc,11.7,7.2,2.3,rain',
      '',
      'Seattle,2012-01-04,,11.7,7.2,2.3,rain',
      '"Multi',
      'line",2012-01-05,1.3,8.9,2.8,6.1,rain',
      'Seattle,2012-01-06,2.5,4.4,2.2,2.2',
      'Seattle,2012-01-07,0.0,7.2,2.8,2.3,rain',
      '',
    ].join('\r\n'),
  );
  const summary = await createPipeline({ input, output: join(dir, 'out.csv') });
  t.same(summary.rows, { read: 7, scored: 3, rejected: 4 });
  const rejects = parse(await readFile(join(dir, 'out.rejects.csv')));
  t.same(
    rejects.map((r) => [r[r.length - 2], r[r.length - 1]]),
    [
      ['line', 'error'],
      ['3', 'column "date": impossible date: "2012-02-30"'],
      ['4', 'column "precipitation": not a number: "abc"'],
      ['6', 'column "precipitation": empty value'],
      ['9', 'expected 7 fields, got 6'],
    ],
  );
  const out = parse(await readFile(join(dir, 'out.csv')));
  t.same(
    out.slice(1).map((r) => r[1]),
    ['2012-01-01', '2012-01-05', '2012-01-07'],
  );
  t.equal(out[2]?.[0], 'Multi\r\nline', 'quoted newline kept');
});

t.test('a missing required column fails the run and leaves no output', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.csv');
  await writeFile(input, 'date,precipitation\n2012-01-01,1\n');
  const err = await createPipeline({ input, output: join(dir, 'out.csv') }).catch((e: unknown) => e);
  t.ok(isBatchInferError(err, ErrorCodes.MISSING_COLUMN));
  t.match((err as Error).message, /temp_max, temp_min, wind/);
  const { readdir } = await import('node:fs/promises');
  // A failed run still records itself in its metrics file (docs/monitoring.md); nothing else is left.
  t.same(await readdir(dir), ['in.csv', 'out.metrics.prom'], 'no output, rejects or temp files left');
});

t.test('maxRejectRatio turns too many rejects into a failed run', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'in.csv');
  await writeFile(
    input,
    'location,date,precipitation,temp_max,temp_min,wind\nA,2012-01-01,x,1,1,1\nA,2012-01-02,1,1,1,1\n',
  );
  const err = await createPipeline({ input, output: join(dir, 'out.csv'), maxRejectRatio: 0.2 }).catch(
    (e: unknown) => e,
  );
  t.ok(isBatchInferError(err, ErrorCodes.TOO_MANY_REJECTS));
  t.match((err as Error).message, /1 of 2 rows rejected \(50\.00 %\)/);
});

t.test('options are validated with the option name and value', async (t) => {
  await t.rejects(createPipeline({ input: 'x', output: 'y', batchSize: 0 }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /`batchSize`: expected an integer from 1 to 1000000, got 0/,
  });
  await t.rejects(createPipeline({ input: 'x', output: 'y', protocol: 'v2-json' }), {
    message: /needs `url`/,
  });
  await t.rejects(createPipeline({ input: 'x', output: 'y', batchsize: 3 } as never), {
    message: /Unknown option `batchsize`/,
  });
  await t.rejects(createPipeline({ input: 'x', output: 'y', url: 'ftp://a' }), {
    message: /expected an http\(s\) URL/,
  });
});

t.test('an unknown model on the server is a clear error', async (t) => {
  const url = await startServer(t);
  const dir = await tempDir(t);
  await t.rejects(createPipeline({ input: WEATHER_CSV, output: join(dir, 'o.csv'), url, model: 'nope' }), {
    code: 'BI_ERR_MODEL_NOT_FOUND',
    message: /does not serve model "nope"/,
  });
});
