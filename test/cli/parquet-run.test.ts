/**
 * `batch-infer run` from and to Parquet, end to end through the real CLI, checked by DuckDB (an independent
 * reader and writer): the input is a Parquet file DuckDB wrote from data/weather.csv (typed columns, several
 * row groups, nulls), the Parquet output is read back by DuckDB and compared with the CSV run of the same data.
 */
import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { killWhileWriting, runCli } from './spawn-cli.js';

async function query(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRows();
  } finally {
    connection.closeSync();
  }
}

const sqlPath = (path: string): string => `'${path.replaceAll("'", "''")}'`;

/** The scored rows as comparable values: probabilities as float32, whatever the file held them as. */
function scoredRows(from: string): Promise<unknown[][]> {
  return query(
    `SELECT location, date::VARCHAR, precipitation::DOUBLE, temp_max::DOUBLE, weather, prediction,
       probability_drizzle::FLOAT, probability_fog::FLOAT, probability_rain::FLOAT, probability_snow::FLOAT,
       probability_sun::FLOAT
     FROM ${from}`,
  );
}

interface Summary {
  rows: { read: number; scored: number; rejected: number };
  output: string;
}

t.test('Parquet in, Parquet out: the same rows and values as the CSV run of the same data', async (t) => {
  const dir = await tempDir(t);
  const table = `(SELECT location, date, CASE WHEN row_number() OVER () IN (7, 1000) THEN NULL ELSE precipitation END AS precipitation,
      temp_max, temp_min, wind, weather FROM read_csv(${sqlPath(WEATHER_CSV)}))`;
  // DuckDB writes both: the CSV (NULL as an empty cell) and the Parquet file (nullable typed columns, 4 groups).
  await query(`COPY ${table} TO ${sqlPath(join(dir, 'in.csv'))} (HEADER)`);
  await query(
    `COPY ${table} TO ${sqlPath(join(dir, 'in.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 800, COMPRESSION zstd)`,
  );
  const csvRun = await runCli(['run', '-i', join(dir, 'in.csv'), '-o', join(dir, 'csv-out.csv')]);
  t.equal(csvRun.code, 0, csvRun.code === 0 ? 'exit 0' : csvRun.stderr);
  const run = await runCli([
    'run',
    '-i',
    join(dir, 'in.parquet'),
    '-o',
    join(dir, 'out.parquet'),
    '--progress-interval',
    '1ms',
  ]);
  t.equal(run.code, 0, run.code === 0 ? 'exit 0' : run.stderr);
  // Progress knows the rows to read from the file's footer: a percentage and an ETA without bytes to count.
  t.match(run.stderr, /"rows_total":2922/);

  const summary = JSON.parse(await readFile(join(dir, 'out.summary.json'), 'utf8')) as Summary;
  const csvSummary = JSON.parse(await readFile(join(dir, 'csv-out.summary.json'), 'utf8')) as Summary;
  t.same(summary.rows, csvSummary.rows, 'the same counts as the CSV run');
  t.equal(summary.rows.read, summary.rows.scored + summary.rows.rejected);
  t.equal(summary.rows.rejected, 2, 'the two rows with a null precipitation are rejected');
  t.equal(summary.output, join(dir, 'out.parquet'));

  const parquet = await scoredRows(`read_parquet(${sqlPath(join(dir, 'out.parquet'))})`);
  const csv = await scoredRows(`read_csv(${sqlPath(join(dir, 'csv-out.csv'))})`);
  t.equal(parquet.length, 2920);
  t.same(parquet, csv, 'every value equal to the CSV run');

  const types = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(join(dir, 'out.parquet'))})`);
  const typeOf: Record<string, unknown> = Object.fromEntries(types.map((r) => [String(r[0]), r[1]]));
  t.match(typeOf, {
    date: 'VARCHAR',
    precipitation: 'DOUBLE',
    weather: 'VARCHAR',
    prediction: 'VARCHAR',
    probability_rain: 'FLOAT',
  });
  // The rejects are a CSV beside the output, with the rows as their source gave them.
  const rejects = await readFile(join(dir, 'out.rejects.csv'), 'utf8');
  t.match(rejects.split('\n')[0], /^location,date,precipitation,temp_max,temp_min,wind,weather,line,error$/);
  t.equal(rejects.trim().split('\n').length, 3);
});

t.test('CSV in, Parquet out with --columns; Parquet in, CSV out', async (t) => {
  const dir = await tempDir(t);
  const run = await runCli([
    'run',
    '-i',
    WEATHER_CSV,
    '-o',
    join(dir, 'scored.parquet'),
    '--columns',
    'location,date',
  ]);
  t.equal(run.code, 0, run.code === 0 ? 'exit 0' : run.stderr);
  const rows = await query(
    `SELECT count(*), count(DISTINCT prediction) FROM ${sqlPath(join(dir, 'scored.parquet'))}`,
  );
  t.same(rows, [[2922n, 5n]]);
  const columns = await query(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(join(dir, 'scored.parquet'))})`);
  t.same(
    columns.map((r) => r[0]).slice(0, 3),
    ['location', 'date', 'prediction'],
    'only the kept input columns, then the outputs',
  );

  // Scored again from a Parquet file holding every input column (and the first run's outputs, not kept).
  const all = await runCli(['run', '-i', WEATHER_CSV, '-o', join(dir, 'all.parquet')]);
  t.equal(all.code, 0, all.code === 0 ? 'exit 0' : all.stderr);
  const back = await runCli([
    'run',
    '-i',
    join(dir, 'all.parquet'),
    '-o',
    join(dir, 'back.csv'),
    '--columns',
    'date',
  ]);
  t.equal(back.code, 0, back.code === 0 ? 'exit 0' : back.stderr);
  const text = await readFile(join(dir, 'back.csv'), 'utf8');
  t.equal(text.trim().split('\n').length, 2923);
});

t.test('--resume over a Parquet input (it can be read again) with a CSV output', async (t) => {
  const dir = await tempDir(t);
  await query(
    `COPY (SELECT * FROM read_csv(${sqlPath(WEATHER_CSV)})) TO ${sqlPath(join(dir, 'in.parquet'))}`,
  );
  const run = await runCli(['run', '-i', join(dir, 'in.parquet'), '-o', join(dir, 'out.csv'), '--resume']);
  t.equal(run.code, 0, run.code === 0 ? 'exit 0' : run.stderr);
  const plain = await runCli(['run', '-i', join(dir, 'in.parquet'), '-o', join(dir, 'plain.csv')]);
  t.equal(plain.code, 0, plain.code === 0 ? 'exit 0' : plain.stderr);
  t.equal(await readFile(join(dir, 'out.csv'), 'utf8'), await readFile(join(dir, 'plain.csv'), 'utf8'));
  const refused = await runCli([
    'run',
    '-i',
    join(dir, 'in.parquet'),
    '-o',
    join(dir, 'out.parquet'),
    '--resume',
  ]);
  t.equal(refused.code, 2, 'a Parquet output is written whole or not at all: --resume is refused');
  t.match(refused.stderr, /Option `resume` needs input\(s\) that can be read again/);
});

t.test('a corrupt or truncated Parquet input exits 65 with BI_ERR_PARQUET and writes nothing', async (t) => {
  const dir = await tempDir(t);
  await query(
    `COPY (SELECT * FROM read_csv(${sqlPath(WEATHER_CSV)})) TO ${sqlPath(join(dir, 'good.parquet'))}`,
  );
  const good = await readFile(join(dir, 'good.parquet'));
  await writeFile(join(dir, 'truncated.parquet'), good.subarray(0, good.length - 100));
  await writeFile(join(dir, 'text.parquet'), 'location,date\nSeattle,2012-01-01\n');
  for (const name of ['truncated.parquet', 'text.parquet']) {
    const run = await runCli(['run', '-i', join(dir, name), '-o', join(dir, `${name}.out.parquet`)]);
    t.equal(run.code, 65, `${name}: ${run.stderr}`);
    t.match(run.stderr, /BI_ERR_PARQUET/);
  }
  // A failed run still writes its metrics file (docs/monitoring.md); no Parquet output, no temporary file.
  const left = (await readdir(dir)).filter((f) => f.includes('.out.') && !f.endsWith('.metrics.prom'));
  t.same(left, [], 'no output, no temporary file');
});

t.test('a killed run leaves no Parquet file behind under the output name', async (t) => {
  const dir = await tempDir(t);
  // Enough rows that the run is still writing when it is killed: 40 copies of the data set.
  await query(
    `COPY (SELECT w.* FROM read_csv(${sqlPath(WEATHER_CSV)}) w, range(40)) TO ${sqlPath(join(dir, 'big.parquet'))} (ROW_GROUP_SIZE 5000)`,
  );
  const stderr = await killWhileWriting([
    'run',
    '-i',
    join(dir, 'big.parquet'),
    '-o',
    join(dir, 'out.parquet'),
  ]);
  t.match(stderr, /"scored":[1-9]/, 'killed while writing');
  const files = await readdir(dir);
  t.notOk(files.includes('out.parquet'), `no out.parquet (files: ${files.join(', ')})`);
});
