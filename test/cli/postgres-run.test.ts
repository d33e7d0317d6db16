/**
 * `batch-infer run` from a PostgreSQL table or query into another table, end to end through the real CLI and a
 * real PostgreSQL (test/support/postgres.ts): values equal to the CSV run of the same data, rejects, the
 * `--if-exists` choices, shards writing one table, a killed run leaving the table as it was, and the errors a
 * user meets (wrong password, a bad query, a missing table) with their codes and exit statuses.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  loadWeatherTable,
  startPostgres,
  SKIP_WITHOUT_POSTGRES,
  type TestPostgres,
} from '../support/postgres.js';
import { tempDir } from '../helpers.js';
import { killWhileWriting, runCli } from './spawn-cli.js';

/** data/weather.csv as a typed table, with two NULL precipitations (rows the CSV has as empty cells). */
/** The CSV a `COPY … TO STDOUT` export of the table would give: what a user would score without us. */
async function exportCsv(pg: TestPostgres, table: string, path: string): Promise<void> {
  const rows = await pg.sql(
    `SELECT location, to_char(date, 'YYYY-MM-DD'), precipitation, temp_max, temp_min, wind, weather FROM ${table} ORDER BY id`,
  );
  const text = rows
    .map((r) => r.map((v) => (v === null ? '' : String(v as string | number))).join(','))
    .join('\n');
  await (
    await import('node:fs/promises')
  ).writeFile(path, `location,date,precipitation,temp_max,temp_min,wind,weather\n${text}\n`);
}

t.test('PostgreSQL', { skip: SKIP_WITHOUT_POSTGRES }, async (t) => {
  const pg = await startPostgres(t);
  await loadWeatherTable(pg, 'weather');
  const url = pg.url();
  const dir = await tempDir(t);
  const cli = (args: string[]) => runCli(args, { cwd: dir });

  t.test('--input-table into --output-table: the CSV run of the same data, row for row', async (t) => {
    await exportCsv(pg, 'weather', join(dir, 'weather.csv'));
    const csv = await cli(['run', '-i', join(dir, 'weather.csv'), '-o', join(dir, 'scored.csv')]);
    t.equal(csv.code, 0, csv.code === 0 ? 'exit 0' : csv.stderr);
    const run = await cli([
      'run',
      '-i',
      url,
      '--input-table',
      'weather',
      '-o',
      url,
      '--output-table',
      'scored',
      '--columns',
      'id,location,date',
    ]);
    t.equal(run.code, 0, run.code === 0 ? 'exit 0' : run.stderr);
    t.notMatch(run.stderr, pg.password, 'the password is in no log line');
    // The side files go to the working directory, named after the table.
    const summary = JSON.parse(await readFile(join(dir, 'scored.summary.json'), 'utf8')) as {
      rows: { read: number; scored: number; rejected: number };
      inputs: string[];
      output: string;
    };
    t.same(summary.rows, { read: 2922, scored: 2920, rejected: 2 });
    t.notMatch(JSON.stringify(summary), pg.password, 'nor in the summary');
    t.match(summary.output, /\*\*\*/);
    const rejects = parse<{ id: string }>(await readFile(join(dir, 'scored.rejects.csv'), 'utf8'), {
      columns: true,
    });
    t.same(
      rejects.map((r) => r.id),
      ['7', '1000'],
    );

    const table = (
      await pg.sql(
        `SELECT location, date, prediction, probability_drizzle, probability_fog, probability_rain,
           probability_snow, probability_sun FROM scored ORDER BY id`,
      )
    ).map((r) => [...r.slice(0, 3), ...r.slice(3).map((p) => Math.fround(Number(p)))]);
    const scoredCsv: string[][] = parse(await readFile(join(dir, 'scored.csv'), 'utf8'), { from_line: 2 });
    const expected = scoredCsv.map((r) => [
      r[0],
      r[1],
      r[7],
      ...r.slice(8).map((p) => Math.fround(Number(p))),
    ]);
    t.equal(table.length, 2920);
    const differing = table.filter((row, i) => JSON.stringify(row) !== JSON.stringify(expected[i]));
    t.same(differing.slice(0, 3), [], 'values equal to the CSV run (probabilities as float4)');
    const types = await pg.sql(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'scored' ORDER BY ordinal_position`,
    );
    t.same(types.slice(0, 5), [
      ['id', 'integer'],
      ['location', 'text'],
      ['date', 'text'],
      ['prediction', 'text'],
      ['probability_drizzle', 'real'],
    ]);
  });

  t.test('--if-exists: fail by default, append, replace', async (t) => {
    const args = [
      'run',
      '-i',
      url,
      '--query',
      'SELECT * FROM weather WHERE id <= 10',
      '-o',
      url,
      '--output-table',
      'small',
    ];
    t.equal((await cli(args)).code, 0, 'created');
    const again = await cli(args);
    t.equal(again.code, 1);
    t.match(again.stderr, /BI_ERR_TABLE_EXISTS/);
    t.equal((await cli([...args, '--if-exists', 'append'])).code, 0);
    // Row 7 has a NULL precipitation: rejected each time.
    t.same(await pg.sql('SELECT count(*)::int FROM small'), [[18]]);
    t.equal((await cli([...args, '--if-exists', 'replace'])).code, 0);
    t.same(await pg.sql('SELECT count(*)::int FROM small'), [[9]]);
    const misfit = await cli([
      'run',
      '-i',
      url,
      '--query',
      'SELECT id, location, date, precipitation, temp_max, temp_min, wind FROM weather WHERE id <= 10',
      '-o',
      url,
      '--output-table',
      'small',
      '--if-exists',
      'append',
    ]);
    t.equal(misfit.code, 1);
    t.match(misfit.stderr, /BI_ERR_TABLE_COLUMNS/);
  });

  t.test(
    '--rejects postgres://…#table: the rejected rows in a table, committed with the output',
    async (t) => {
      const run = await cli([
        'run',
        '-i',
        url,
        '--query',
        'SELECT * FROM weather WHERE id <= 10 ORDER BY id',
        '-o',
        url,
        '--output-table',
        'ten',
        '--rejects',
        `${url}#ten_rejects`,
      ]);
      t.equal(run.code, 0, run.code === 0 ? 'exit 0' : run.stderr);
      t.same(await pg.sql('SELECT id, precipitation, line, error FROM ten_rejects'), [
        [7, null, '7', 'column "precipitation": empty value'],
      ]);
      t.same(await pg.sql('SELECT count(*)::int FROM ten'), [[9]]);
    },
  );

  t.test('--shard i/N --shard-by: three shards append into one table, every row once', async (t) => {
    for (let i = 0; i < 3; i++) {
      const run = await cli([
        'run',
        '-i',
        url,
        '--input-table',
        'weather',
        '--shard',
        `${i}/3`,
        '--shard-by',
        'id',
        '-o',
        url,
        '--output-table',
        'sharded',
        '--if-exists',
        'append',
        '--summary',
        join(dir, `shard-${i}.json`),
      ]);
      t.equal(run.code, 0, run.code === 0 ? 'exit 0' : run.stderr);
    }
    t.same(await pg.sql('SELECT count(*)::int, count(DISTINCT id)::int FROM sharded'), [[2920, 2920]]);
  });

  t.test('a killed run leaves the output table as it was', async (t) => {
    await pg.sql(`CREATE TABLE big AS SELECT w.* FROM weather w, generate_series(1, 60)`);
    const stderr = await killWhileWriting(
      ['run', '-i', url, '--input-table', 'big', '-o', url, '--output-table', 'killed'],
      { cwd: dir },
    );
    t.match(stderr, /"scored":[1-9]/, 'killed while writing');
    t.same(await pg.sql(`SELECT to_regclass('killed') IS NULL`), [[true]], 'no table');
  });

  t.test('errors: wrong password (exit 1), a bad query and a missing table (exit 65)', async (t) => {
    const wrong = url.replace(`:${pg.password}@`, ':not-the-password@');
    const denied = await cli(['run', '-i', wrong, '--input-table', 'weather', '-o', join(dir, 'x.csv')]);
    t.equal(denied.code, 1);
    t.match(denied.stderr, /BI_ERR_ACCESS/);
    t.notMatch(denied.stderr, 'not-the-password');
    const bad = await cli(['run', '-i', url, '--query', 'SELEC 1', '-o', join(dir, 'x.csv')]);
    t.equal(bad.code, 65);
    t.match(bad.stderr, /BI_ERR_QUERY/);
    const missing = await cli(['run', '-i', url, '--input-table', 'no_such_table', '-o', join(dir, 'x.csv')]);
    t.equal(missing.code, 65);
    t.match(missing.stderr, /BI_ERR_QUERY/);
  });
});
