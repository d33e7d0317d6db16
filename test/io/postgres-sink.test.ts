/**
 * The PostgreSQL sink (issue #17) against a real PostgreSQL (test/support/postgres.ts): typed columns and
 * COPY's escaping read back through the source, `--if-exists` fail / append / replace, columns that do not
 * fit, a rollback on discard, an abort and a SIGKILL leaving the table as it was, shards appending at once,
 * and refused credentials and values.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ErrorCodes } from '../../lib/errors.js';
import { postgresSink, type IfExists } from '../../lib/io/postgres-sink.js';
import { postgresSource } from '../../lib/io/postgres-source.js';
import type { Cell, Column, RecordSink, SourceRecord } from '../../lib/io/table.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { failure } from '../helpers.js';
import { SKIP_WITHOUT_POSTGRES, startPostgres, type TestPostgres } from '../support/postgres.js';

const TSX = import.meta.resolve('tsx');
const KILLED = join(PACKAGE_ROOT, 'test', 'io', 'fixtures', 'postgres-sink-killed.ts');

const SCORED: Column[] = [
  { name: 'id', type: 'int64' },
  { name: 'prediction', type: 'string' },
  { name: 'p_yes', type: 'float64' },
];

/** A column of each type. */
const EVERY_TYPE: Column[] = [
  { name: 'text', type: 'string' },
  { name: 'flag', type: 'boolean' },
  { name: 'small', type: 'int32' },
  { name: 'big', type: 'int64' },
  { name: 'single', type: 'float32' },
  { name: 'double', type: 'float64' },
];

/** Writes the columns' first batch (no rows) and then `batches`, and ends the stream. */
async function write(sink: RecordSink, columns: readonly Column[], batches: Cell[][][]): Promise<void> {
  for (const rows of [[], ...batches])
    if (!sink.stream.write({ columns, rows })) await once(sink.stream, 'drain');
  sink.stream.end();
  await finished(sink.stream);
}

function scored(from: number, count: number): Cell[][] {
  return Array.from({ length: count }, (_, i) => [
    BigInt(from + i),
    i % 2 === 0 ? 'yes' : 'no',
    (i % 10) / 10,
  ]);
}

/** The table's rows through the source: typed cells, header first. */
async function readBack(db: TestPostgres, query: string): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const record of postgresSource(db.url(), { query }).open()) records.push(record as SourceRecord);
  return records;
}

async function count(db: TestPostgres, table: string): Promise<number | string> {
  try {
    return (await db.sql(`SELECT count(*)::int FROM ${table}`))[0]?.[0] as number;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Waits until the server shows what `sql` counts (a backend in COPY, one waiting for a lock). */
async function until(db: TestPostgres, sql: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (((await db.sql(sql))[0]?.[0] as number) > 0) return;
    await sleep(50);
  }
  throw new Error(`never: ${sql}`);
}

async function ourBackends(db: TestPostgres): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const n = (
      await db.sql("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'batch-infer'")
    )[0]?.[0] as number;
    if (n === 0) return 0;
    await sleep(100);
  }
  return -1;
}

t.test('PostgreSQL sink', { skip: SKIP_WITHOUT_POSTGRES }, async (t) => {
  const db = await startPostgres(t);

  t.test('creates the table with typed columns; COPY keeps every value', async (t) => {
    const columns: Column[] = [...EVERY_TYPE, { name: 'Mixed Case "name"', type: 'string' }];
    const rows: Cell[][] = [
      ['tab\there', true, -2147483648, 9223372036854775807n, 0.1, 1e-300, 'a'],
      ['new\nline\r\nand cr\r', false, 2147483647, -9223372036854775808n, -3.5, NaN, 'b'],
      ['back\\slash \\N \\. \\t', null, 0, 0n, Infinity, -Infinity, 'c'],
      ['', null, null, null, null, -0, null],
      ['ü€😀', true, 1, 1n, 1.5, 0.30000000000000004, 'd'],
    ];
    const sink = postgresSink(db.url(), { table: 'created', ifExists: 'fail' });
    t.equal(sink.kind, 'rows');
    t.equal(sink.name, `${db.url({ password: '***' })}#created`);
    await write(sink, columns, [rows.slice(0, 2), rows.slice(2)]);
    await sink.commit();

    const types = await db.sql(
      `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
        WHERE attrelid = 'created'::regclass AND attnum > 0 ORDER BY attnum`,
    );
    t.same(types, [
      ['text', 'text'],
      ['flag', 'boolean'],
      ['small', 'integer'],
      ['big', 'bigint'],
      ['single', 'real'],
      ['double', 'double precision'],
      ['Mixed Case "name"', 'text'],
    ]);
    const [header, ...back] = await readBack(db, 'SELECT * FROM created');
    t.same(header?.columns, columns, 'the source reads the types the sink wrote');
    t.strictSame(
      back.map((r) => r.values),
      rows,
    );
    t.ok(Object.is(back[3]?.values[5], -0), '-0 keeps its sign');
    t.equal(await ourBackends(db), 0, 'the connection is closed after the commit');
  });

  t.test(
    'the same rows through binary COPY (a table of our types) and text COPY (other types)',
    async (t) => {
      const columns = EVERY_TYPE;
      const rows: Cell[][] = [
        ['ü€😀 \\N', true, -7, -9007199254740991, 3.4028234663852886e38, 5e-324],
        ['', false, 2147483647, 9007199254740991, -1.401298464324817e-45, -0],
        [null, null, null, -1, NaN, Infinity],
        ['x', true, 0, -4294967297, 0.5, -1.7976931348623157e308],
      ];
      // int8/float8/varchar/numeric take these values but are not the types the sink creates: text COPY.
      await db.sql(
        'CREATE TABLE as_binary (text text, flag bool, small int4, big int8, single float4, double float8)',
      );
      await db.sql(
        'CREATE TABLE as_text (text varchar, flag bool, small int8, big numeric, single float8, double float8)',
      );
      for (const table of ['as_binary', 'as_text']) {
        const sink = postgresSink(db.url(), { table, ifExists: 'append' });
        await write(sink, columns, [rows.slice(0, 1), rows.slice(1)]);
        await sink.commit();
      }
      const text = (table: string) =>
        db.sql(`SELECT text, flag, small::text, big::text, single::float8::text, double::text FROM ${table}`);
      const binary = await text('as_binary');
      t.same(binary, await text('as_text'), 'both formats store the same values');
      t.same(binary[1], ['', false, '2147483647', '9007199254740991', '-1.401298464324817e-45', '-0']);
      t.same(binary[3]?.[3], '-4294967297', 'a negative int64 from a number keeps its high word');
      t.same(binary[2], [null, null, null, '-1', 'NaN', 'Infinity']);
    },
  );

  t.test(
    'binary COPY: a cell that does not fit its column fails the run with the column, nothing is written',
    async (t) => {
      const sink = postgresSink(db.url(), { table: 'misfit', ifExists: 'fail' });
      const err = await failure(write(sink, [{ name: 'n', type: 'int32' }], [[[1], [2]], [[1.5]]]));
      t.equal(err.code, ErrorCodes.OUTPUT_WRITE);
      t.match(err.message, /#misfit: column "n" is int32, a cell is 1\.5/);
      await sink.discard();
      t.match(await count(db, 'misfit'), /does not exist/, 'the table created in the run is rolled back');
      t.equal(await ourBackends(db), 0);
    },
  );

  t.test('a run with no rows creates the empty table', async (t) => {
    const sink = postgresSink(db.url(), { table: 'empty', ifExists: 'fail' });
    await write(sink, SCORED, []);
    await sink.commit();
    t.same(await readBack(db, 'SELECT * FROM empty'), [
      { line: 0, values: ['id', 'prediction', 'p_yes'], columns: SCORED },
    ]);
  });

  t.test('a required column (a model output) is created NOT NULL', async (t) => {
    const columns: Column[] = [
      { name: 'id', type: 'int64' },
      { name: 'prediction', type: 'string', required: true },
    ];
    const sink = postgresSink(db.url(), { table: 'not_null', ifExists: 'fail' });
    await write(sink, columns, [[[1n, 'yes']]]);
    await sink.commit();
    t.same(
      await db.sql(
        `SELECT attname, attnotnull FROM pg_attribute
          WHERE attrelid = 'not_null'::regclass AND attnum > 0 ORDER BY attnum`,
      ),
      [
        ['id', false],
        ['prediction', true],
      ],
    );
  });

  t.test('fail: an existing table is refused and left alone', async (t) => {
    await db.sql('CREATE TABLE exists_already (id bigint)');
    await db.sql('INSERT INTO exists_already VALUES (1)');
    const sink = postgresSink(db.url(), { table: 'exists_already', ifExists: 'fail' });
    const err = await failure(write(sink, SCORED, [scored(0, 5)]));
    t.equal(err.code, ErrorCodes.TABLE_EXISTS);
    t.match(err.message, /exists_already exists; choose --if-exists append or replace/);
    t.notMatch(err.message, db.password);
    await sink.discard();
    t.equal(await count(db, 'exists_already'), 1);
    t.equal(await ourBackends(db), 0);
  });

  t.test('append: adds to a table whose columns fit, in any order, with defaulted extras', async (t) => {
    await db.sql(`CREATE TABLE appended (
      row_id bigint GENERATED ALWAYS AS IDENTITY, p_yes double precision, prediction varchar(10), id numeric,
      scored_at timestamptz DEFAULT now())`);
    for (const from of [0, 100]) {
      const sink = postgresSink(db.url(), { table: 'appended', ifExists: 'append' });
      await write(sink, SCORED, [scored(from, 30)]);
      await sink.commit();
    }
    t.same(await db.sql('SELECT count(*)::int, count(DISTINCT id)::int, max(row_id)::int FROM appended'), [
      [60, 60, 60],
    ]);
    t.same(await db.sql('SELECT id::text, prediction, p_yes FROM appended WHERE id = 101'), [
      ['101', 'no', 0.1],
    ]);
  });

  t.test('append: a table whose columns do not fit is refused with both column lists', async (t) => {
    await db.sql('CREATE TABLE other_output (id integer, label text NOT NULL, p_yes double precision)');
    const sink = postgresSink(db.url(), { table: 'other_output', ifExists: 'append' });
    const err = await failure(write(sink, SCORED, [scored(0, 5)]));
    t.equal(err.code, ErrorCodes.TABLE_COLUMNS);
    t.match(err.message, 'id is integer, which cannot hold int64');
    t.match(err.message, 'no column prediction');
    t.match(err.message, 'label is not in the output and has no default');
    t.match(err.message, 'the table has (id integer, label text, p_yes double precision)');
    t.match(err.message, 'the output has (id int64, prediction string, p_yes float64)');
    await sink.discard();
    t.equal(await count(db, 'other_output'), 0);
  });

  t.test('append: a value the column cannot take fails the run, and nothing is added', async (t) => {
    await db.sql('CREATE TABLE typed_target (id bigint, prediction integer, p_yes double precision)');
    await db.sql('INSERT INTO typed_target VALUES (1, 1, 0.5)');
    const sink = postgresSink(db.url(), { table: 'typed_target', ifExists: 'append' });
    const err = await failure(write(sink, SCORED, [[[2n, '7', 0.5]], [[3n, 'seven', 0.5]]]));
    t.equal(err.code, ErrorCodes.OUTPUT_WRITE);
    t.match(err.message, /invalid input syntax for type integer: "seven"/);
    await sink.discard();
    t.same(await db.sql('SELECT id::int FROM typed_target'), [[1]]);
    t.equal(await ourBackends(db), 0);
  });

  t.test('replace: readers see the old rows until the commit, then the new table', async (t) => {
    await db.sql('CREATE TABLE report (old_column text)');
    await db.sql("INSERT INTO report SELECT 'old' FROM generate_series(1, 7)");
    const sink = postgresSink(db.url(), { table: 'report', ifExists: 'replace' });
    for (const rows of [[], scored(0, 50)]) sink.stream.write({ columns: SCORED, rows });
    await until(db, "SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'COPY%'");
    // Not blocked: a reader waiting for a lock would fail after a second.
    const reader = new pg.Client({ connectionString: db.url(), lock_timeout: 1000 });
    await reader.connect();
    t.teardown(() => reader.end());
    t.same((await reader.query('SELECT count(*)::int AS n FROM report')).rows, [{ n: 7 }]);
    sink.stream.end();
    await finished(sink.stream);
    t.same((await reader.query('SELECT count(*)::int AS n FROM report')).rows, [{ n: 7 }]);
    await sink.commit();
    t.same((await reader.query('SELECT count(*)::int AS n, max(id)::int AS last FROM report')).rows, [
      { n: 50, last: 49 },
    ]);
    t.same((await readBack(db, 'SELECT * FROM report LIMIT 0'))[0]?.columns, SCORED, 'the new columns');
    t.same(await db.sql("SELECT count(*)::int FROM pg_class WHERE relname LIKE 'report_batch_infer_%'"), [
      [0],
    ]);
  });

  t.test('replace in a schema, and of a table that does not exist', async (t) => {
    await db.sql('CREATE SCHEMA out');
    await db.sql('CREATE TABLE out."Scores" (x int)');
    for (const table of ['out.Scores', 'out.fresh']) {
      const sink = postgresSink(db.url(), { table, ifExists: 'replace' });
      await write(sink, SCORED, [scored(0, 3)]);
      await sink.commit();
    }
    t.equal(await count(db, 'out."Scores"'), 3);
    t.equal(await count(db, 'out.fresh'), 3);
  });

  t.test('discard rolls back: no table created, no rows added, no table replaced', async (t) => {
    await db.sql('CREATE TABLE kept (id bigint, prediction text, p_yes double precision)');
    await db.sql("INSERT INTO kept VALUES (1, 'kept', 1)");
    const cases: [string, IfExists][] = [
      ['never_made', 'fail'],
      ['kept', 'append'],
      ['kept', 'replace'],
    ];
    for (const [table, ifExists] of cases) {
      const sink = postgresSink(db.url(), { table, ifExists });
      await write(sink, SCORED, [scored(10, 20)]);
      await sink.discard();
    }
    t.match(await count(db, 'never_made'), /relation "never_made" does not exist/);
    t.same(await db.sql('SELECT * FROM kept'), [['1', 'kept', 1]]);
    t.equal(await ourBackends(db), 0);
  });

  t.test('a stream destroyed mid-run closes its connection, and the table stays as it was', async (t) => {
    const sink = postgresSink(db.url(), { table: 'kept', ifExists: 'append' });
    for (const rows of [[], scored(100, 50)]) sink.stream.write({ columns: SCORED, rows });
    await until(db, "SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'COPY%'");
    const failed = failure(finished(sink.stream));
    sink.stream.destroy(new Error('the run failed'));
    t.equal((await failed).message, 'the run failed');
    await sink.discard();
    t.equal(await count(db, 'kept'), 1);
    t.equal(await ourBackends(db), 0);
  });

  t.test('commit before the stream finished is refused', async (t) => {
    const sink = postgresSink(db.url(), { table: 'kept', ifExists: 'append' });
    sink.stream.write({ columns: SCORED, rows: scored(0, 2) });
    t.equal((await failure(sink.commit())).code, ErrorCodes.OUTPUT_WRITE);
    sink.stream.destroy();
    await sink.discard();
    t.equal(await count(db, 'kept'), 1);
  });

  t.test('a process killed with SIGKILL mid-COPY leaves the table as it was', async (t) => {
    await db.sql('CREATE TABLE killed_append (id bigint, label text)');
    await db.sql("INSERT INTO killed_append VALUES (0, 'before')");
    const size = async (): Promise<number> =>
      Number((await db.sql("SELECT pg_relation_size('killed_append')"))[0]?.[0]);
    const sizeBefore = await size();
    for (const [table, ifExists] of [
      ['killed_new', 'fail'],
      ['killed_append', 'append'],
      ['killed_append', 'replace'],
    ]) {
      const child = spawn(
        process.execPath,
        ['--import', TSX, KILLED, db.url(), table ?? '', ifExists ?? ''],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const exited = once(child, 'exit');
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      t.equal(line.toString(), 'written\n', `${ifExists}: the child wrote its rows`);
      await until(
        db,
        "SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'COPY%' AND state = 'active'",
      );
      if (ifExists === 'append') {
        // The rows are in the table's file, uncommitted: what the kill must leave invisible.
        for (let i = 0; i < 100 && (await size()) === sizeBefore; i++) await sleep(50);
        t.ok((await size()) > sizeBefore, 'the uncommitted rows reached the table');
      }
      child.kill('SIGKILL');
      const [, signal] = (await exited) as [number | null, string | null];
      t.equal(signal, 'SIGKILL');
      t.equal(await ourBackends(db), 0, `${ifExists}: the server ended the killed run's session`);
    }
    t.match(await count(db, 'killed_new'), /does not exist/);
    t.same(await db.sql('SELECT id::int, label FROM killed_append'), [[0, 'before']]);
    t.same(
      await db.sql("SELECT relname FROM pg_class WHERE relname LIKE 'killed%'"),
      [['killed_append']],
      'no table of the replace run left behind',
    );
  });

  t.test('shards appending to one table at once each commit their own rows', async (t) => {
    await db.sql('CREATE TABLE shared (id bigint, prediction text, p_yes double precision)');
    const a = postgresSink(db.url(), { table: 'shared', ifExists: 'append' });
    const b = postgresSink(db.url(), { table: 'shared', ifExists: 'append' });
    for (const rows of [[], scored(0, 100)]) a.stream.write({ columns: SCORED, rows });
    for (const rows of [[], scored(1000, 100)]) b.stream.write({ columns: SCORED, rows });
    a.stream.write({ columns: SCORED, rows: scored(100, 100) });
    b.stream.end();
    a.stream.end();
    await Promise.all([finished(a.stream), finished(b.stream)]);
    await b.commit();
    t.equal(await count(db, 'shared'), 100, 'b committed alone');
    await a.commit();
    t.equal(await count(db, 'shared'), 300);
  });

  t.test(
    'shards appending to a table that does not exist yet: one creates it, the others wait and append',
    async (t) => {
      const a = postgresSink(db.url(), { table: 'made_by_a_shard', ifExists: 'append' });
      const b = postgresSink(db.url(), { table: 'made_by_a_shard', ifExists: 'append' });
      await new Promise((resolve) => a.stream.write({ columns: SCORED, rows: [] }, resolve));
      for (const rows of [[], scored(1000, 10)]) b.stream.write({ columns: SCORED, rows });
      b.stream.end();
      await until(db, "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
      a.stream.end({ columns: SCORED, rows: scored(0, 20) });
      await finished(a.stream);
      await a.commit();
      await finished(b.stream);
      await b.commit();
      t.equal(await count(db, 'made_by_a_shard'), 30);
    },
  );

  t.test('refused credentials: BI_ERR_ACCESS at the first batch, without the password', async (t) => {
    const sink = postgresSink(db.url({ password: 'bad-password-1' }), { table: 'never', ifExists: 'fail' });
    const err = await failure(write(sink, SCORED, []));
    t.equal(err.code, ErrorCodes.ACCESS);
    t.match(err.message, /password authentication failed/);
    t.notMatch(err.message, 'bad-password-1');
    t.notMatch(sink.name, 'bad-password-1');
    await sink.discard();
  });

  t.test('options: a table name and ifExists', async (t) => {
    t.throws(() => postgresSink(db.url(), { table: 'a.b.c', ifExists: 'fail' }), {
      code: ErrorCodes.INVALID_OPTION,
    });
    t.throws(() => postgresSink(db.url(), { table: 't', ifExists: 'overwrite' as IfExists }), {
      code: ErrorCodes.INVALID_OPTION,
    });
  });
});
