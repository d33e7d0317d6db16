import t from 'tap';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parquetSink, type ParquetCompression } from '../../lib/io/parquet-sink.js';
import { parquetSource } from '../../lib/io/parquet-source.js';
import type { Cell, Column, SourceRecord } from '../../lib/io/table.js';
import { tempDir } from '../helpers.js';

// DuckDB is the second, independent Parquet implementation: it writes files our source must read as DuckDB
// itself reads them, and reads what our sink writes with the same values and types.

const instance = await DuckDBInstance.create(':memory:');
const duck: DuckDBConnection = await instance.connect();
t.teardown(() => {
  duck.closeSync();
  instance.closeSync();
});
// Timestamps with a time zone are shown in UTC, as the source gives them.
await duck.run(`SET TimeZone = 'UTC'`);

async function rows(sql: string): Promise<unknown[][]> {
  return (await duck.runAndReadAll(sql)).getRows();
}

async function records(path: string): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const record of parquetSource(path).open()) out.push(record as SourceRecord);
  return out;
}

/**
 * Each column: how DuckDB makes it (a null every few rows, at a different phase per column), the type the
 * source gives it, and how DuckDB reads it back as the cell the source should give.
 */
const COLUMNS: readonly { name: string; make: string; type: Column['type']; expect?: string }[] = [
  { name: 'i', make: 'i::INTEGER - 5000', type: 'int32' },
  { name: 'b', make: 'i::BIGINT * 9007199254741', type: 'int64' },
  { name: 'ti', make: '(i % 256 - 128)::TINYINT', type: 'int32' },
  { name: 'si', make: '(i * 7 % 65536 - 32768)::SMALLINT', type: 'int32' },
  { name: 'ui', make: '(4294967295 - i)::UINTEGER', type: 'int64', expect: 'ui::BIGINT' },
  { name: 'ub', make: '(18446744073709551615 - i)::UBIGINT', type: 'int64' },
  { name: 'd', make: 'i / 7 - 300', type: 'float64' },
  { name: 'f', make: '(i / 3)::FLOAT', type: 'float32' },
  { name: 'flag', make: 'i % 3 = 0', type: 'boolean' },
  // Few distinct values: DuckDB writes them with a dictionary.
  { name: 'label', make: `(['rain', 'sun', 'fog', 'snow'])[1 + i % 4]`, type: 'string' },
  { name: 'text', make: `'row ' || i || ' ünïcödé ☂'`, type: 'string' },
  { name: 'day', make: `DATE '1900-01-01' + (i * 13)::INTEGER`, type: 'string', expect: 'day::VARCHAR' },
  {
    name: 'ts',
    make: `TIMESTAMP '1969-12-31 23:00:00.123456' + to_microseconds(i * 3600000123)`,
    type: 'string',
    expect: `strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')`,
  },
  {
    name: 'tstz',
    make: `TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_microseconds(i * 1000001)`,
    type: 'string',
    expect: `strftime(tstz::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f') || 'Z'`,
  },
  { name: 'dec', make: '(i * 12.3456 - 5000)::DECIMAL(18,4)', type: 'string', expect: 'dec::VARCHAR' },
  {
    name: 'dec_small',
    make: '((i % 1999) / 100 - 9.99)::DECIMAL(4,2)',
    type: 'string',
    expect: 'dec_small::VARCHAR',
  },
  { name: 'list', make: '[i, NULL, i + 1]', type: 'string', expect: 'to_json(list)::VARCHAR' },
  { name: 'struct', make: `{'n': i, 's': 'x' || i}`, type: 'string', expect: 'to_json(struct)::VARCHAR' },
];

const ROWS = 10_000;
const SELECT = `SELECT ${COLUMNS.map((c, k) => `CASE WHEN i % ${7 + k} = ${k % 5} THEN NULL ELSE ${c.make} END AS "${c.name}"`).join(',\n')} FROM range(${ROWS}) t(i)`;

t.test('files DuckDB writes, in each compression: the source reads what DuckDB reads', async (t) => {
  const dir = await tempDir(t);
  for (const compression of ['snappy', 'gzip', 'zstd', 'brotli', 'lz4', 'uncompressed']) {
    const path = join(dir, `${compression}.parquet`);
    await duck.run(
      `COPY (${SELECT}) TO '${path}' (FORMAT parquet, COMPRESSION ${compression}, ROW_GROUP_SIZE 2048)`,
    );
    const groups = await rows(`SELECT DISTINCT row_group_id FROM parquet_metadata('${path}')`);
    t.ok(groups.length >= 4, `${compression}: ${groups.length} row groups`);
    const expected = await rows(
      `SELECT ${COLUMNS.map((c) => c.expect ?? `"${c.name}"`).join(', ')} FROM read_parquet('${path}')`,
    );
    const got = await records(path);
    t.same(
      got[0]?.columns,
      COLUMNS.map(({ name, type }) => ({ name, type })),
      `${compression}: column types`,
    );
    t.equal(got.length - 1, ROWS, `${compression}: rows`);
    let mismatches = 0;
    got.slice(1).forEach((record, r) => {
      if (record.line !== r + 1 || !sameRow(record.values, expected[r] as unknown[])) {
        if (mismatches++ < 3) t.same(record.values, expected[r], `${compression}: row ${r + 1}`);
      }
    });
    t.equal(mismatches, 0, `${compression}: every row as DuckDB reads it`);
  }
  const encodings = await rows(
    `SELECT DISTINCT encodings FROM parquet_metadata('${join(dir, 'snappy.parquet')}') WHERE path_in_schema = 'label'`,
  );
  t.match(String(encodings[0]?.[0]), /DICTIONARY/, 'the label column is dictionary-encoded');
  const zstd = join(dir, 'zstd.parquet');
  t.same(
    await parquetSource(zstd).size(),
    { bytes: (await stat(zstd)).size, rows: ROWS },
    'size from the footer',
  );
});

function sameRow(got: readonly Cell[], expected: readonly unknown[]): boolean {
  return got.length === expected.length && got.every((cell, c) => cell === expected[c]);
}

const OUT_COLUMNS: readonly Column[] = [
  { name: 'date', type: 'string' },
  { name: 'ok', type: 'boolean' },
  { name: 'n', type: 'int32' },
  { name: 'id', type: 'int64' },
  { name: 'prediction', type: 'string' },
  { name: 'p_rain', type: 'float32' },
  { name: 'temp_max', type: 'float64' },
];

function outRow(i: number): Cell[] {
  return [
    i % 10 === 0 ? null : `2012-01-${String((i % 28) + 1).padStart(2, '0')}`,
    i % 11 === 1 ? null : i % 2 === 0,
    i % 12 === 2 ? null : i * 1000 - 2_000_000,
    i % 13 === 3 ? null : BigInt(i) * 4_611_686_018_427n - 2n ** 62n,
    i % 14 === 4 ? null : (['rain', 'sun', 'fog'][i % 3] as string),
    i % 15 === 5 ? null : Math.fround(1 / (i + 1)),
    i % 16 === 6 ? null : i / 10 - 5,
  ];
}

t.test('what the sink writes, DuckDB reads with the same types and values', async (t) => {
  const dir = await tempDir(t);
  const rowsOut = Array.from({ length: 2500 }, (_, i) => outRow(i));
  for (const compression of ['snappy', 'gzip', 'brotli', 'uncompressed'] as ParquetCompression[]) {
    const path = join(dir, `${compression}.parquet`);
    const sink = parquetSink(path, { rowGroupRows: 1000, compression });
    sink.stream.write({ columns: OUT_COLUMNS, rows: [] });
    for (let at = 0; at < rowsOut.length; at += 300)
      sink.stream.write({ columns: OUT_COLUMNS, rows: rowsOut.slice(at, at + 300) });
    sink.stream.end();
    await once(sink.stream, 'finish');
    await sink.commit();
    t.same(
      await rows(`DESCRIBE SELECT * FROM read_parquet('${path}')`).then((r) => r.map((c) => [c[0], c[1]])),
      [
        ['date', 'VARCHAR'],
        ['ok', 'BOOLEAN'],
        ['n', 'INTEGER'],
        ['id', 'BIGINT'],
        ['prediction', 'VARCHAR'],
        ['p_rain', 'FLOAT'],
        ['temp_max', 'DOUBLE'],
      ],
      `${compression}: types`,
    );
    t.same(await rows(`SELECT * FROM read_parquet('${path}')`), rowsOut, `${compression}: values`);
    t.same(
      await rows(
        `SELECT row_group_id, any_value(row_group_num_rows), any_value(compression) FROM parquet_metadata('${path}') GROUP BY ALL ORDER BY 1`,
      ),
      [
        [0n, 1000n, compression.toUpperCase()],
        [1n, 1000n, compression.toUpperCase()],
        [2n, 500n, compression.toUpperCase()],
      ],
      `${compression}: row groups`,
    );
  }

  const empty = join(dir, 'empty.parquet');
  const sink = parquetSink(empty);
  sink.stream.end({ columns: OUT_COLUMNS, rows: [] });
  await once(sink.stream, 'finish');
  await sink.commit();
  t.same(await rows(`SELECT count(*) FROM read_parquet('${empty}')`), [[0n]], 'zero rows');
  t.equal((await rows(`DESCRIBE SELECT * FROM read_parquet('${empty}')`)).length, OUT_COLUMNS.length);
});
