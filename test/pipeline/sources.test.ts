import t from 'tap';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { once } from 'node:events';
import { createPipeline, parquetSink, parquetSource } from '../../lib/index.js';
import type { Column, RowBatch, SourceRecord } from '../../lib/io/table.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const HEADER = 'location,date,precipitation,temp_max,temp_min,wind,weather';
const weather = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');

t.test('JSON Lines in (by extension or inputFormat) scores like the same rows as CSV', async (t) => {
  const dir = await tempDir(t);
  const rows = weather.slice(1, 41).map((l) => l.split(','));
  const columns = HEADER.split(',');
  const jsonl = rows
    .map((r) =>
      JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, i >= 2 && i <= 5 ? Number(r[i]) : r[i]]))),
    )
    .join('\r\n');
  await writeFile(join(dir, 'in.csv'), [HEADER, ...weather.slice(1, 41)].join('\n') + '\n');
  await writeFile(join(dir, 'in.jsonl'), '\uFEFF' + jsonl + '\n\n');
  await createPipeline({ input: join(dir, 'in.csv'), output: join(dir, 'csv.csv') });
  const summary = await createPipeline({ input: join(dir, 'in.jsonl'), output: join(dir, 'jsonl.csv') });
  t.same(summary.rows, { read: 40, scored: 40, rejected: 0 });
  // Numbers come back as JSON text ("0.0" is 0), so the passthrough differs there; the scores do not.
  const scores = async (file: string) => {
    const rows: string[][] = parse(await readFile(join(dir, file)));
    return rows.map((r) => [r[1], ...r.slice(7)]);
  };
  t.same(await scores('jsonl.csv'), await scores('csv.csv'), 'same dates, predictions and probabilities');
  const stream = await createPipeline({
    input: Readable.from([jsonl]),
    inputFormat: 'jsonl',
    output: join(dir, 'stream.csv'),
  });
  t.equal(stream.rows.scored, 40);
});

t.test('JSON Lines: bad lines are rejects with their line; a bad first line fails the run', async (t) => {
  const dir = await tempDir(t);
  const good = '{"location":"S","date":"2012-01-01","precipitation":0,"temp_max":10,"temp_min":3,"wind":2}';
  await writeFile(
    join(dir, 'in.ndjson'),
    [good, '{"location":', '[1,2]', '{"date":"2012-01-02","precipitation":null}', good, ''].join('\n'),
  );
  const summary = await createPipeline({ input: join(dir, 'in.ndjson'), output: join(dir, 'o.csv') });
  t.same(summary.rows, { read: 5, scored: 2, rejected: 3 });
  const rejects: string[][] = parse(await readFile(join(dir, 'o.rejects.csv')), { relax_column_count: true });
  t.same(
    rejects.slice(1).map((r) => [r[r.length - 2], r[r.length - 1]?.replace(/:.*$/s, '')]),
    [
      ['2', 'not JSON'],
      ['3', 'not a JSON object'],
      ['4', 'column "precipitation"'],
    ],
  );
  await writeFile(join(dir, 'bad.jsonl'), 'hello\n' + good + '\n');
  await t.rejects(createPipeline({ input: join(dir, 'bad.jsonl'), output: join(dir, 'b.csv') }), {
    code: 'BI_ERR_INPUT_FORMAT',
    message: /JSON Lines input, line 1: not JSON/,
  });
});

t.test('several files and a pattern read as one input; rejects name the file', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'in'));
  const parts = [weather.slice(1, 1001), weather.slice(1001, 2001), weather.slice(2001)];
  for (const [i, part] of parts.entries())
    await writeFile(join(dir, 'in', `day-${i}.csv`), [HEADER, ...part].join('\n') + '\n');
  await writeFile(join(dir, 'in', 'other.csv'), 'x\n1\n');
  const single = await createPipeline({ input: WEATHER_CSV, output: join(dir, 'single.csv') });
  const listed = await createPipeline({
    input: [0, 1, 2].map((i) => join(dir, 'in', `day-${i}.csv`)),
    output: join(dir, 'listed.csv'),
  });
  const globbed = await createPipeline({ input: join(dir, 'in', 'day-?.c*'), output: join(dir, 'glob.csv') });
  t.same(
    globbed.inputs,
    [0, 1, 2].map((i) => join(dir, 'in', `day-${i}.csv`)),
  );
  t.same(listed.rows, single.rows);
  const expected = await readFile(join(dir, 'single.csv'));
  t.ok((await readFile(join(dir, 'listed.csv'))).equals(expected), 'same bytes as one file');
  t.ok((await readFile(join(dir, 'glob.csv'))).equals(expected));
  t.equal(
    (await readFile(join(dir, 'glob.rejects.csv'), 'utf8')).trim(),
    `${HEADER},file,line,error`,
    'a file column when there are several inputs',
  );
  await t.rejects(createPipeline({ input: join(dir, 'in', 'nothing-*.csv'), output: join(dir, 'x.csv') }), {
    code: 'BI_ERR_INPUT_NOT_FOUND',
    message: /matches no file/,
  });
  await t.rejects(createPipeline({ input: join(dir, 'in', '*.csv'), output: join(dir, 'x.csv') }), {
    code: 'BI_ERR_HEADER_MISMATCH',
    message: /other\.csv" has columns x;/,
  });
  t.notOk((await readdir(dir)).includes('x.csv'), 'nothing committed');
});

t.test(
  'several Parquet files: a column REQUIRED in one and null in another is scored, not refused',
  async (t) => {
    const dir = await tempDir(t);
    const columns = (required: boolean): Column[] => [
      { name: 'location', type: 'string', ...(required ? { required: true } : {}) },
      { name: 'date', type: 'string' },
      ...['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({
        name,
        type: 'float64' as const,
      })),
    ];
    const write = async (name: string, batch: RowBatch): Promise<string> => {
      const sink = parquetSink(join(dir, name));
      sink.stream.end(batch);
      await once(sink.stream, 'finish');
      await sink.commit();
      return join(dir, name);
    };
    const a = await write('a.parquet', {
      columns: columns(true),
      rows: [['Seattle', '2016-01-02', 1, 10, 5, 3]],
    });
    const b = await write('b.parquet', {
      columns: columns(false),
      rows: [[null, '2016-01-03', 0, 12, 4, 2]],
    });
    const summary = await createPipeline({ input: [a, b], output: join(dir, 'out.parquet') });
    t.same(summary.rows, { read: 2, scored: 2, rejected: 0 });
    const records: SourceRecord[] = [];
    for await (const record of parquetSource(join(dir, 'out.parquet')).open())
      records.push(record as SourceRecord);
    t.equal(records[0]?.columns?.[0]?.required, undefined, 'location is nullable in the output');
    t.same(
      records.slice(1).map((r) => r.values[0]),
      ['Seattle', null],
    );
  },
);

t.test('columns keeps only some input columns, in the given order', async (t) => {
  const dir = await tempDir(t);
  const output = join(dir, 'o.csv');
  await createPipeline({ input: WEATHER_CSV, output, columns: ['date', 'location'] });
  const rows: string[][] = parse(await readFile(output));
  t.same(rows[0]?.slice(0, 3), ['date', 'location', 'prediction']);
  t.same(rows[1]?.slice(0, 2), ['2012-01-01', 'Seattle']);
  await t.rejects(createPipeline({ input: WEATHER_CSV, output, columns: ['id'] }), {
    code: 'BI_ERR_MISSING_COLUMN',
    message: /Cannot keep column\(s\) the input lacks: id/,
  });
  await t.rejects(createPipeline({ input: WEATHER_CSV, output, columns: [] }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /`columns`: expected a non-empty list/,
  });
});

t.test('a run summary JSON is written beside the output, with a stable config fingerprint', async (t) => {
  const dir = await tempDir(t);
  const output = join(dir, 'o.csv');
  const a = await createPipeline({ input: WEATHER_CSV, output, concurrency: 2 });
  t.equal(a.summary, join(dir, 'o.summary.json'));
  const written = JSON.parse(await readFile(join(dir, 'o.summary.json'), 'utf8')) as Record<string, unknown>;
  t.match(written, {
    status: 'succeeded',
    model: { name: 'weather', version: 1 },
    rows: { read: 2922, scored: 2922, rejected: 0 },
    config_fingerprint: /^[0-9a-f]{64}$/,
    config: { batch_size: 4096, model: 'weather', inputs: [WEATHER_CSV] },
  });
  const b = await createPipeline({ input: WEATHER_CSV, output, concurrency: 7, summary: false });
  t.equal(b.config_fingerprint, a.config_fingerprint, 'concurrency does not change the output');
  const c = await createPipeline({
    input: WEATHER_CSV,
    output,
    columns: ['date'],
    summary: join(dir, 's.json'),
  });
  t.not(c.config_fingerprint, a.config_fingerprint);
  t.same((await readdir(dir)).sort(), [
    'o.csv',
    'o.metrics.prom',
    'o.rejects.csv',
    'o.summary.json',
    's.json',
  ]);
});

t.test('onProgress reports counts, throughput and an ETA, and a last call when done', async (t) => {
  const dir = await tempDir(t);
  const seen: import('../../lib/index.js').Progress[] = [];
  await createPipeline({
    input: WEATHER_CSV,
    output: join(dir, 'o.csv'),
    batchSize: 50,
    progressInterval: 5,
    onProgress: (p) => seen.push(p),
  });
  const last = seen[seen.length - 1]!;
  t.match(last, { done: true, eta_ms: 0, rows: { read: 2922, scored: 2922, rejected: 0 } });
  t.equal(last.bytes_total, (await readFile(WEATHER_CSV)).length);
  t.equal(last.bytes_read, last.bytes_total);
  t.ok(seen.slice(0, -1).every((p) => !p.done));
  await t.rejects(
    createPipeline({
      input: WEATHER_CSV,
      output: join(dir, 'p.csv'),
      batchSize: 10,
      progressInterval: 1,
      onProgress: () => {
        throw new Error('progress broke');
      },
    }),
    /progress broke/,
  );
});
