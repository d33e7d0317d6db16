/**
 * The PostgreSQL source (issue #17) against a real PostgreSQL (test/support/postgres.ts): typed cells, a query
 * and a table, no rows, shards that partition the rows, a cursor that fetches as the stream is read, abort,
 * and the errors of a missing table, a bad query and refused credentials.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes } from '../../lib/errors.js';
import { postgresSource } from '../../lib/io/postgres-source.js';
import type { RecordSource, SourceRecord } from '../../lib/io/table.js';
import { SKIP_WITHOUT_POSTGRES, startPostgres, type TestPostgres } from '../support/postgres.js';

async function read(source: RecordSource): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const record of source.open()) records.push(record as SourceRecord);
  return records;
}

async function failure(source: RecordSource): Promise<{ code?: string; message: string }> {
  try {
    await read(source);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('the source did not fail');
}

/** Backends of batch-infer (its application_name) connected now. */
async function ourBackends(db: TestPostgres): Promise<number> {
  const rows = await db.sql(
    "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'batch-infer'",
  );
  return rows[0]?.[0] as number;
}

t.test('PostgreSQL source', { skip: SKIP_WITHOUT_POSTGRES }, async (t) => {
  const db = await startPostgres(t);

  t.test('each type reaches the record as the model can use it', async (t) => {
    await db.sql(`CREATE TABLE typed (
      i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, n numeric, b boolean,
      s text, v varchar(10), c char(4), u uuid, d date, ts timestamp, tz timestamptz, j json, jb jsonb,
      a integer[], iv interval)`);
    await db.sql(`INSERT INTO typed VALUES
      (-32768, -2147483648, 9223372036854775807, 0.1, 1.7976931348623157e308, 12345678901234567890.000000000001,
       true, E'tab\\there\\nline \\\\ ü', 'short', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29',
       '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5+00', '{"a": [1, 2]}', '{"b": 1, "a": 2}',
       '{1,2,NULL}', '1 day 02:00:00'),
      (NULL, NULL, -9223372036854775808, 'NaN', '-Infinity', NULL, false, '', NULL, NULL, NULL, NULL,
       'infinity', NULL, NULL, NULL, NULL, NULL)`);
    // The session's time zone writes timestamptz: an offset of whole hours gets its minutes.
    await db.sql("ALTER ROLE batch_infer SET timezone = 'Europe/Paris'");
    t.teardown(() => db.sql('ALTER ROLE batch_infer RESET timezone'));
    const [header, first, second, ...rest] = await read(postgresSource(db.url(), { table: 'typed' }));
    t.same(rest, []);
    t.same(header?.line, 0);
    t.same(
      header?.columns?.map((c) => `${c.name}:${c.type}`),
      [
        'i2:int32',
        'i4:int32',
        'i8:int64',
        'f4:float32',
        'f8:float64',
        'n:string',
        'b:boolean',
        's:string',
        'v:string',
        'c:string',
        'u:string',
        'd:string',
        'ts:string',
        'tz:string',
        'j:string',
        'jb:string',
        'a:string',
        'iv:string',
      ],
    );
    t.same(
      header?.values,
      header?.columns?.map((c) => c.name),
    );
    t.equal(first?.line, 1);
    t.strictSame(first?.values, [
      -32768,
      -2147483648,
      9223372036854775807n,
      0.1,
      1.7976931348623157e308,
      '12345678901234567890.000000000001',
      true,
      'tab\there\nline \\ ü',
      'short',
      'ab  ',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '2024-02-29',
      '2024-01-02T03:04:05.123456',
      '2024-01-02T04:04:05.5+01:00',
      '{"a": [1, 2]}',
      '{"a": 2, "b": 1}',
      '{1,2,NULL}',
      '1 day 02:00:00',
    ]);
    t.equal(second?.line, 2);
    t.strictSame(second?.values, [
      null,
      null,
      -9223372036854775808n,
      NaN,
      -Infinity,
      null,
      false,
      '',
      null,
      null,
      null,
      null,
      'infinity',
      null,
      null,
      null,
      null,
      null,
    ]);

    await db.sql("ALTER ROLE batch_infer SET timezone = 'Asia/Kolkata'");
    const [, kolkata] = await read(
      postgresSource(db.url(), { query: 'SELECT tz FROM typed ORDER BY i8 DESC' }),
    );
    t.strictSame(kolkata?.values, ['2024-01-02T08:34:05.5+05:30']);
  });

  t.test('a query, a table by schema and case-sensitive name, and no rows', async (t) => {
    await db.sql('CREATE SCHEMA scoring');
    await db.sql('CREATE TABLE scoring."Visits" (id integer, city text)');
    await db.sql("INSERT INTO scoring.\"Visits\" VALUES (1, 'Oslo'), (2, 'Lima'), (3, 'Pune')");
    const table = await read(postgresSource(db.url(), { table: 'scoring.Visits' }));
    t.same(
      table.map((r) => r.values),
      [
        ['id', 'city'],
        [1, 'Oslo'],
        [2, 'Lima'],
        [3, 'Pune'],
      ],
    );
    const query = await read(
      postgresSource(db.url(), {
        query:
          'SELECT city, id * 10 AS score FROM scoring."Visits" WHERE id > 1 ORDER BY id; -- the latest\n',
      }),
    );
    t.same(
      query.map((r) => [r.line, ...r.values]),
      [
        [0, 'city', 'score'],
        [1, 'Lima', 20],
        [2, 'Pune', 30],
      ],
    );
    const none = await read(
      postgresSource(db.url(), { query: 'SELECT id, city FROM scoring."Visits" WHERE false' }),
    );
    t.same(none, [
      {
        line: 0,
        values: ['id', 'city'],
        columns: [
          { name: 'id', type: 'int32' },
          { name: 'city', type: 'string' },
        ],
      },
    ]);
    const source = postgresSource(db.url(), { table: 'scoring.Visits' });
    t.equal(source.repeatable, false);
    t.same(await source.size(), {});
    t.equal(source.name, db.url({ password: '***' }) + '#scoring.Visits');
  });

  t.test('shards 0 … N-1 split the rows: every row in one, NULL keys included', async (t) => {
    await db.sql(`CREATE TABLE sharded AS
      SELECT g AS id, CASE WHEN g % 50 = 0 THEN NULL ELSE 'k' || (g % 97) END AS key FROM generate_series(1, 3000) g`);
    const query = 'SELECT id, key FROM sharded';
    const all = (await read(postgresSource(db.url(), { query }))).slice(1).map((r) => r.values[0] as number);
    const count = 4;
    const seen = new Map<number, number>();
    for (let index = 0; index < count; index++) {
      const rows = (
        await read(postgresSource(db.url(), { query: `${query};`, shard: { index, count, by: 'key' } }))
      ).slice(1);
      t.ok(rows.length > 3000 / count / 3, `shard ${index} has ${rows.length} rows`);
      t.same(
        rows.map((r) => r.line),
        rows.map((_, i) => i + 1),
        `shard ${index}: rows numbered from 1`,
      );
      for (const row of rows) seen.set(row.values[0] as number, (seen.get(row.values[0] as number) ?? 0) + 1);
    }
    t.equal(seen.size, all.length, 'the union is every row');
    t.ok(
      [...seen.values()].every((n) => n === 1),
      'no row is in two shards',
    );
    // A key is in one shard whatever its row: the same key's rows stay together.
    const byKey = new Map<string, Set<number>>();
    for (let index = 0; index < count; index++)
      for (const row of (
        await read(postgresSource(db.url(), { table: 'sharded', shard: { index, count, by: 'key' } }))
      ).slice(1)) {
        const key = String(row.values[1]);
        byKey.set(key, (byKey.get(key) ?? new Set()).add(index));
      }
    t.ok(
      [...byKey.values()].every((shards) => shards.size === 1),
      'each key, NULL too, in one shard',
    );
  });

  t.test('the cursor fetches as the stream is read, not the whole result first', async (t) => {
    await db.sql(
      'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS label FROM generate_series(1, 200000) g',
    );
    // nextval() runs as each row is produced, and a sequence is seen by others at once, in or out of a
    // transaction: its value is how many rows the server has produced so far.
    await db.sql('CREATE SEQUENCE produced');
    const source = postgresSource(db.url(), {
      query: "SELECT id, label, nextval('produced') AS n FROM big",
      fetchRows: 1000,
    });
    const records = source.open()[Symbol.asyncIterator]() as AsyncIterator<SourceRecord>;
    const take = async (n: number): Promise<SourceRecord | undefined> => {
      let last: SourceRecord | undefined;
      for (let i = 0; i < n; i++) last = (await records.next()).value as SourceRecord | undefined;
      return last;
    };
    const produced = async (): Promise<number> =>
      Number((await db.sql('SELECT last_value FROM produced'))[0]?.[0]);
    t.equal((await take(11))?.line, 10);
    // A reader that stops holds the server back: one fetch in the stream's buffer, one at most in flight.
    await sleep(300);
    t.ok((await produced()) <= 3000, `${await produced()} rows produced of 200000 when the 10th was read`);
    t.equal((await take(50000))?.line, 50010);
    await sleep(300);
    t.ok((await produced()) <= 53010, `${await produced()} rows produced when the 50010th was read`);
    let last = 50010;
    for (let next = await records.next(); next.done !== true; next = await records.next())
      last = next.value.line;
    t.equal(last, 200000);
  });

  t.test('aborting the signal ends the stream and closes the connection', async (t) => {
    const controller = new AbortController();
    const stream = postgresSource(db.url(), { table: 'big', fetchRows: 100 }).open({
      signal: controller.signal,
    });
    let seen = 0;
    const done = (async () => {
      for await (const record of stream) {
        seen = (record as SourceRecord).line;
        if (seen === 50) controller.abort();
      }
    })();
    await t.rejects(done, { name: 'AbortError' });
    t.equal(seen, 50);
    for (let i = 0; i < 50 && (await ourBackends(db)) > 0; i++) await sleep(100);
    t.equal(await ourBackends(db), 0, 'no batch-infer connection left');
  });

  t.test(
    'a missing table, a bad query, a statement with no rows: BI_ERR_QUERY with the database message',
    async (t) => {
      const missing = await failure(postgresSource(db.url(), { table: 'nowhere' }));
      t.equal(missing.code, ErrorCodes.QUERY);
      t.match(missing.message, /relation "nowhere" does not exist/);
      const syntax = await failure(postgresSource(db.url(), { query: 'SELEC 1' }));
      t.equal(syntax.code, ErrorCodes.QUERY);
      t.match(syntax.message, /syntax error at or near "SELEC"/);
      const column = await failure(postgresSource(db.url(), { query: 'SELECT nope FROM big' }));
      t.match(column.message, /column "nope" does not exist/);
      const noRows = await failure(postgresSource(db.url(), { query: 'CREATE TABLE made_by_query (x int)' }));
      t.equal(noRows.code, ErrorCodes.QUERY);
      t.match(noRows.message, /returns no columns/);
      const shardKey = await failure(
        postgresSource(db.url(), { table: 'big', shard: { index: 0, count: 2, by: 'nope' } }),
      );
      t.equal(shardKey.code, ErrorCodes.QUERY);
      t.match(shardKey.message, /column batch_infer_shard.nope does not exist/);
      t.equal(await ourBackends(db), 0, 'no connection left behind');
    },
  );

  t.test('refused credentials, no server, no database: BI_ERR_ACCESS without the password', async (t) => {
    const wrong = 'not-the-password-4242';
    const refused = await failure(postgresSource(db.url({ password: wrong }), { table: 'big' }));
    t.equal(refused.code, ErrorCodes.ACCESS);
    t.match(refused.message, `batch_infer@127.0.0.1:${db.port}/postgres`);
    t.match(refused.message, /password authentication failed for user "batch_infer"/);
    t.notMatch(refused.message, wrong);
    t.notMatch(JSON.stringify(refused), wrong);

    const nobody = await failure(
      postgresSource(`postgres://batch_infer:${wrong}@127.0.0.1:1/postgres`, { query: 'SELECT 1' }),
    );
    t.equal(nobody.code, ErrorCodes.ACCESS);
    t.match(nobody.message, /ECONNREFUSED/);
    t.notMatch(nobody.message, wrong);

    const noDatabase = await failure(postgresSource(db.url({ database: 'nodb' }), { query: 'SELECT 1' }));
    t.equal(noDatabase.code, ErrorCodes.ACCESS);
    t.match(noDatabase.message, /database "nodb" does not exist/);
    t.notMatch(noDatabase.message, db.password);
  });

  t.test('options: exactly one of query and table, a shard inside its count', async (t) => {
    const invalid = { code: ErrorCodes.INVALID_OPTION };
    t.throws(() => postgresSource(db.url(), {}), invalid);
    t.throws(() => postgresSource(db.url(), { query: 'SELECT 1', table: 'big' }), invalid);
    t.throws(() => postgresSource(db.url(), { table: 'a.b.c' }), invalid);
    t.throws(
      () => postgresSource(db.url(), { table: 'big', shard: { index: 2, count: 2, by: 'id' } }),
      invalid,
    );
    t.throws(() => postgresSource(db.url(), { table: 'big', fetchRows: 0 }), invalid);
  });
});
