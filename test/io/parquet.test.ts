import t from 'tap';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { ErrorCodes } from '../../lib/errors.js';
import { dateText, decimalText, timestampText } from '../../lib/io/parquet-columns.js';
import { parquetSink, type ParquetSinkOptions } from '../../lib/io/parquet-sink.js';
import { fileRangeReader, parquetSource, type ByteRangeReader } from '../../lib/io/parquet-source.js';
import type { Cell, Column, ColumnBatch, RecordSource, RowBatch, SourceRecord } from '../../lib/io/table.js';
import { tempDir } from '../helpers.js';
import { columnBatchOf } from '../support/column-batch.js';

const COLUMNS: readonly Column[] = [
  { name: 'name', type: 'string' },
  { name: 'ok', type: 'boolean' },
  { name: 'small', type: 'int32' },
  { name: 'big', type: 'int64' },
  { name: 'p', type: 'float32' },
  { name: 'x', type: 'float64' },
];

/** Row i of the typed sample: every type, and a null in each column on some row. */
function sample(i: number): Cell[] {
  return [
    i % 5 === 1 ? null : `név ${i % 3}`,
    i % 7 === 2 ? null : i % 2 === 0,
    i % 4 === 3 ? null : i - 2_000_000_000 * (i % 2),
    i % 6 === 4 ? null : BigInt(i) * 1_000_000_000_000n - 9_007_199_254_740_993n,
    i % 8 === 5 ? null : Math.fround(i / 3),
    i % 9 === 6 ? null : i / 7 - 1e10,
  ];
}

async function write(
  path: string,
  batches: (RowBatch | ColumnBatch)[],
  options?: ParquetSinkOptions,
): Promise<void> {
  const sink = parquetSink(path, options);
  for (const batch of batches) if (!sink.stream.write(batch)) await once(sink.stream, 'drain');
  sink.stream.end();
  await once(sink.stream, 'finish');
  await sink.commit();
}

async function read(source: RecordSource): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const record of source.open()) records.push(record as SourceRecord);
  return records;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  throw new Error('expected a failure');
}

t.test('what the sink writes the source reads back: types, nulls, row numbers', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'out.parquet');
  const rows = Array.from({ length: 20 }, (_, i) => sample(i));
  // Batches that do not line up with the row groups (7 rows each).
  await write(
    path,
    [
      { columns: COLUMNS, rows: [] },
      ...[0, 2, 9, 17].map((s, k, a) => ({ columns: COLUMNS, rows: rows.slice(s, a[k + 1] ?? 20) })),
    ],
    {
      rowGroupRows: 7,
    },
  );
  const records = await read(parquetSource(path));
  t.same(records[0], { line: 0, values: COLUMNS.map((c) => c.name), columns: COLUMNS });
  t.same(
    records.slice(1),
    rows.map((values, i) => ({ line: i + 1, values })),
  );
  const metadata = parquetMetadata((await readFile(path)).buffer);
  t.same(
    metadata.row_groups.map((g) => Number(g.num_rows)),
    [7, 7, 6],
    'row groups of at most rowGroupRows',
  );
  t.same(
    metadata.schema.slice(1).map((e) => [e.name, e.type, e.repetition_type]),
    [
      ['name', 'BYTE_ARRAY', 'OPTIONAL'],
      ['ok', 'BOOLEAN', 'OPTIONAL'],
      ['small', 'INT32', 'OPTIONAL'],
      ['big', 'INT64', 'OPTIONAL'],
      ['p', 'FLOAT', 'OPTIONAL'],
      ['x', 'DOUBLE', 'OPTIONAL'],
    ],
  );
  t.equal(metadata.row_groups[0]?.columns[0]?.meta_data?.codec, 'SNAPPY', 'snappy by default');
  t.same(await parquetSource(path).size(), { bytes: (await stat(path)).size, rows: 20 });
});

t.test(
  'column batches write the same file as row batches: typed arrays, cells, runs across row groups',
  async (t) => {
    const dir = await tempDir(t);
    const rows = Array.from({ length: 40 }, (_, i) => sample(i));
    // Slices that cross the row groups (7 rows); the short ones have columns with no null (typed arrays).
    const cuts = [0, 1, 3, 4, 15, 16, 17, 33, 40];
    const slices = cuts.slice(0, -1).map((s, k) => rows.slice(s, cuts[k + 1]));
    const byRows = join(dir, 'rows.parquet');
    const byColumns = join(dir, 'columns.parquet');
    await write(
      byRows,
      slices.map((r) => ({ columns: COLUMNS, rows: r })),
      { rowGroupRows: 7 },
    );
    const batches = slices.map((r) => columnBatchOf(COLUMNS, r));
    t.ok(
      batches.some((b) => b.cells.some((c) => c instanceof Float32Array)) &&
        batches.some((b) => b.cells.some((c) => c instanceof Int32Array)),
      'some columns come as typed arrays',
    );
    await write(byColumns, batches, { rowGroupRows: 7 });
    t.same(await readFile(byColumns), await readFile(byRows), 'byte-identical files');

    // Number columns with no null, in batches that cross the row groups: typed arrays copied from mid-array.
    const numbers: Column[] = [
      { name: 'i', type: 'int32' },
      { name: 'f', type: 'float32', required: true },
      { name: 'd', type: 'float64' },
    ];
    const numberRows = Array.from({ length: 30 }, (_, i) => [i * 3 - 40, Math.fround(i / 7), i / 3 - 1e9]);
    const numberSlices = [numberRows.slice(0, 5), numberRows.slice(5, 19), numberRows.slice(19)];
    const numberBatches = numberSlices.map((r) => columnBatchOf(numbers, r));
    t.ok(
      numberBatches.every((b) => b.cells.every((c) => ArrayBuffer.isView(c))),
      'every column a typed array',
    );
    const numbersByRows = join(dir, 'numbers-rows.parquet');
    const numbersByColumns = join(dir, 'numbers-columns.parquet');
    await write(
      numbersByRows,
      numberSlices.map((r) => ({ columns: numbers, rows: r })),
      { rowGroupRows: 7 },
    );
    await write(numbersByColumns, numberBatches, { rowGroupRows: 7 });
    t.same(
      await readFile(numbersByColumns),
      await readFile(numbersByRows),
      'byte-identical across row groups',
    );
    t.same(
      (await read(parquetSource(numbersByColumns))).slice(1).map((r) => r.values),
      numberRows,
    );

    const probe = parquetSink(join(dir, 'probe.parquet'));
    t.equal(probe.columnar, true, 'the sink says it takes column batches');
    await probe.discard();

    // A float in an int32 column's typed array does not fit: the column is named, as for rows.
    const sink = parquetSink(join(dir, 'misfit.parquet'));
    sink.stream.end({ columns: [{ name: 'n', type: 'int32' }], length: 2, cells: [Float64Array.of(1, 1.5)] });
    const [error] = (await once(sink.stream, 'error')) as [Error];
    t.match(error.message, /column "n" is int32, a cell is 1\.5/);
    await sink.discard();

    // A column with fewer cells than the batch has rows is refused, not padded with stale numbers.
    const short = parquetSink(join(dir, 'short.parquet'));
    short.stream.end({
      columns: [{ name: 'x', type: 'float64' }],
      length: 3,
      cells: [Float64Array.of(1, 2)],
    });
    const [shortError] = (await once(short.stream, 'error')) as [{ code: string; message: string }];
    t.equal(shortError.code, ErrorCodes.OUTPUT_WRITE);
    t.match(shortError.message, /column "x" has 2 cells for 3 rows/);
    await short.discard();
    t.same((await readdir(dir)).sort(), [
      'columns.parquet',
      'numbers-columns.parquet',
      'numbers-rows.parquet',
      'rows.parquet',
    ]);
  },
);

t.test('each compression writes and reads back', async (t) => {
  const dir = await tempDir(t);
  const rows = Array.from({ length: 50 }, (_, i) => sample(i));
  for (const compression of ['snappy', 'gzip', 'brotli', 'uncompressed'] as const) {
    const path = join(dir, `${compression}.parquet`);
    await write(path, [{ columns: COLUMNS, rows }], { compression });
    const codec = parquetMetadata((await readFile(path)).buffer).row_groups[0]?.columns[0]?.meta_data?.codec;
    t.equal(codec, compression.toUpperCase(), compression);
    t.same(
      (await read(parquetSource(path))).slice(1).map((r) => r.values),
      rows,
      compression,
    );
  }
});

t.test('zero rows: one empty batch gives a file with the columns and no row groups', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'empty.parquet');
  await write(path, [{ columns: COLUMNS, rows: [] }]);
  const metadata = parquetMetadata((await readFile(path)).buffer);
  t.equal(metadata.row_groups.length, 0);
  t.same(await read(parquetSource(path)), [
    { line: 0, values: COLUMNS.map((c) => c.name), columns: COLUMNS },
  ]);
  t.same(await parquetSource(path).size(), { bytes: (await stat(path)).size, rows: 0 });
});

t.test('the file appears on commit; discard after a failure or an abort leaves nothing', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'out.parquet');
  const sink = parquetSink(path, { rowGroupRows: 2 });
  // Written when its callback comes: the first row group (2 rows) is in the file.
  await new Promise((resolve) =>
    sink.stream.write({ columns: COLUMNS, rows: [sample(0), sample(1), sample(2)] }, resolve),
  );
  t.equal((await readdir(dir)).length, 1, 'a temporary file while writing');
  t.notOk((await readdir(dir)).includes('out.parquet'), 'not the target');
  sink.stream.end();
  await once(sink.stream, 'finish');
  t.notOk((await readdir(dir)).includes('out.parquet'), 'not before commit');
  await sink.commit();
  t.same(await readdir(dir), ['out.parquet']);

  // A cell that does not fit its column fails the stream with the column named.
  const bad = parquetSink(join(dir, 'bad.parquet'));
  bad.stream.write({ columns: COLUMNS, rows: [sample(0), ['x', true, 1.5, 1n, 1, 1]] });
  const [error] = (await once(bad.stream, 'error')) as [{ code: string; message: string }];
  t.equal(error.code, ErrorCodes.OUTPUT_WRITE);
  t.match(error.message, /bad\.parquet.*column "small" is int32, a cell is 1\.5/);
  await bad.discard();

  // Killed mid-run: destroyed with rows written, then discarded.
  const killed = parquetSink(join(dir, 'killed.parquet'), { rowGroupRows: 10 });
  for (let i = 0; i < 5; i++)
    killed.stream.write({ columns: COLUMNS, rows: Array.from({ length: 10 }, (_, j) => sample(j)) });
  await new Promise((resolve) => setImmediate(resolve));
  const killing = once(killed.stream, 'error');
  killed.stream.destroy(new Error('killed'));
  await killing;
  await killed.discard();

  // No batch at all: there are no columns to write.
  const none = parquetSink(join(dir, 'none.parquet'));
  none.stream.end();
  const [noColumns] = (await once(none.stream, 'error')) as [{ code: string; message: string }];
  t.equal(noColumns.code, ErrorCodes.OUTPUT_WRITE);
  await none.discard();
  t.same(await readdir(dir), ['out.parquet'], 'no partial file, no temporary file');
});

t.test('cells are fitted to their column: text of numbers, safe integers as int64', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'fit.parquet');
  const columns: Column[] = [
    { name: 'label', type: 'string' },
    { name: 'n', type: 'int64' },
  ];
  await write(path, [
    {
      columns,
      rows: [
        [1.5, 7],
        [true, -(2 ** 53) + 1],
        [12n, null],
      ],
    },
  ]);
  t.same(
    (await read(parquetSource(path))).slice(1).map((r) => r.values),
    [
      ['1.5', 7n],
      ['true', -(2n ** 53n) + 1n],
      ['12', null],
    ],
  );
  const sink = parquetSink(join(dir, 'big.parquet'));
  sink.stream.end({ columns, rows: [['x', 2n ** 63n]] });
  const [error] = (await once(sink.stream, 'error')) as [Error];
  t.match(error.message, /column "n" is int64, a cell is 9223372036854775808n/);
  await sink.discard();
});

t.test(
  'a required column is REQUIRED in the file and read back as required; a null in it fails',
  async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'required.parquet');
    const columns: Column[] = [
      { name: 'id', type: 'string' },
      { name: 'score', type: 'float32', required: true },
    ];
    await write(path, [
      {
        columns,
        rows: [
          ['a', 0.5],
          [null, -0.25],
        ],
      },
    ]);
    const metadata = parquetMetadata((await readFile(path)).buffer);
    t.same(
      metadata.schema.slice(1).map((e) => e.repetition_type),
      ['OPTIONAL', 'REQUIRED'],
    );
    const records = await read(parquetSource(path));
    t.same(records[0]?.columns, columns, 'the source says which columns are required');
    t.same(
      records.slice(1).map((r) => r.values),
      [
        ['a', 0.5],
        [null, -0.25],
      ],
    );
    const sink = parquetSink(join(dir, 'null.parquet'));
    sink.stream.end({ columns, rows: [['b', null]] });
    const [error] = (await once(sink.stream, 'error')) as [{ code: string; message: string }];
    t.equal(error.code, ErrorCodes.OUTPUT_WRITE);
    t.match(error.message, /column "score" is float32, a cell is null/);
    await sink.discard();
    t.same(await readdir(dir), ['required.parquet'], 'no partial file');
  },
);

t.test('options are checked', async (t) => {
  const bad = async (f: () => unknown) => failure(Promise.resolve().then(f));
  t.match(await bad(() => parquetSink('x.parquet', { rowGroupRows: 0 })), {
    code: ErrorCodes.INVALID_OPTION,
    message: /rowGroupRows.*got 0/,
  });
  t.match(await bad(() => parquetSink('x.parquet', { compression: 'zstd' as 'gzip' })), {
    code: ErrorCodes.INVALID_OPTION,
    message: /compression.*snappy, gzip, brotli, uncompressed, got "zstd"/,
  });
  t.match(await bad(() => parquetSource('x.parquet', { sliceBytes: 0.5 })), {
    code: ErrorCodes.INVALID_OPTION,
    message: /sliceBytes/,
  });
});

t.test(
  'not Parquet, too short, truncated, corrupt: BI_ERR_PARQUET naming the file; missing: BI_ERR_INPUT_NOT_FOUND',
  async (t) => {
    const dir = await tempDir(t);
    const good = join(dir, 'good.parquet');
    await write(good, [{ columns: COLUMNS, rows: Array.from({ length: 500 }, (_, i) => sample(i)) }], {
      compression: 'uncompressed',
    });
    const bytes = await readFile(good);
    const files: Record<string, Buffer> = {
      'csv.parquet': Buffer.from('a,b\n1,2\n3,4\n5,6\n'),
      'short.parquet': Buffer.from('PAR1'),
      'truncated.parquet': bytes.subarray(0, bytes.length - 40),
      // The first data page's bytes overwritten: the footer is whole, the data is not.
      'corrupt.parquet': Buffer.concat([bytes.subarray(0, 4), Buffer.alloc(200, 0xff), bytes.subarray(204)]),
    };
    const expected: Record<string, RegExp> = {
      'csv.parquet': /csv\.parquet.*not a Parquet file/,
      'short.parquet': /short\.parquet.*4 bytes long, too short/,
      'truncated.parquet': /truncated\.parquet.*"PAR1".*truncated/,
      'corrupt.parquet': /corrupt\.parquet.*row group 0, column "name"/,
    };
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir, name);
      await writeFile(path, content);
      const error = await failure(read(parquetSource(path)));
      t.equal(error.code, ErrorCodes.PARQUET, name);
      t.match(error.message, expected[name], name);
    }
    const missing = join(dir, 'missing.parquet');
    t.match(await failure(read(parquetSource(missing))), {
      code: ErrorCodes.INPUT_NOT_FOUND,
      message: /missing\.parquet.*no such file/,
    });
    t.match(await failure(parquetSource(missing).size()), { code: ErrorCodes.INPUT_NOT_FOUND });
    t.match(await failure(parquetSource(dir).size()), {
      code: ErrorCodes.INPUT_NOT_FOUND,
      message: /directory/,
    });
  },
);

t.test('logical types hyparquet would round: exact decimals (bytes too), dates, timestamps', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'logical.parquet');
  // hyparquet-writer, driven by an explicit schema, writes what the sink does not: FIXED_LEN_BYTE_ARRAY
  // decimals, unannotated binary, DATE, TIMESTAMP in micros.
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'dec', data: [123456789012345678901234567890n, -5n, null] },
      { name: 'bin', data: [new TextEncoder().encode('text'), new Uint8Array([0xff, 0xfe]), null] },
      { name: 'day', data: [-1, 0, 2932897] },
      { name: 'ts', data: [-1n, 1_700_000_000_123_456n, null] },
    ],
    schema: [
      { name: 'root', num_children: 4 },
      {
        name: 'dec',
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: 16,
        converted_type: 'DECIMAL',
        scale: 4,
        precision: 38,
        repetition_type: 'OPTIONAL',
      },
      { name: 'bin', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'day', type: 'INT32', converted_type: 'DATE', repetition_type: 'REQUIRED' },
      { name: 'ts', type: 'INT64', converted_type: 'TIMESTAMP_MICROS', repetition_type: 'OPTIONAL' },
    ],
  });
  await writeFile(path, Buffer.from(buffer));
  const records = await read(parquetSource(path));
  t.same(
    records[0]?.columns?.map((c) => c.type),
    ['string', 'string', 'string', 'string'],
  );
  t.same(
    records.slice(1).map((r) => r.values),
    [
      ['12345678901234567890123456.7890', 'text', '1969-12-31', '1969-12-31T23:59:59.999999Z'],
      ['-0.0005', '//4=', '1970-01-01', '2023-11-14T22:13:20.123456Z'],
      [null, null, '+010000-01-01', null],
    ],
  );
  t.equal(decimalText(-12345n, 2), '-123.45');
  t.equal(decimalText(7n, 0), '7');
  t.equal(dateText(-719529), '-000001-12-31');
  t.equal(timestampText(-1n, 'NANOS', false), '1969-12-31T23:59:59.999999999');
});

/** A file's reader that counts what was read: which bytes the source asked for, and when. */
function counting(
  reader: ByteRangeReader,
): ByteRangeReader & { read: ByteRangeReader['read']; bytes: number } {
  const counted = {
    name: reader.name,
    bytes: 0,
    byteLength: () => reader.byteLength(),
    read: (start: number, end: number) => {
      counted.bytes += end - start;
      return reader.read(start, end);
    },
  };
  return counted;
}

t.test(
  'records come as row groups are read, not after the whole file; abort stops reading; slices',
  async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'many.parquet');
    const rows = Array.from({ length: 300_000 }, (_, i) => sample(i % 1000));
    await write(path, [{ columns: COLUMNS, rows }], { rowGroupRows: 10_000, compression: 'uncompressed' });
    const file = await fileRangeReader(path);
    t.teardown(() => file.close());
    const size = await file.byteLength();

    // The footer is read first (hyparquet asks for the last 512 kB), then one row group at a time.
    const reader = counting(file);
    let first = 0;
    let count = 0;
    for await (const record of parquetSource(reader).open()) {
      if ((record as SourceRecord).line === 1) first = reader.bytes;
      count++;
    }
    t.equal(count, 300_001);
    t.ok(first < size / 4, `first record after reading ${first} of ${size} bytes`);
    t.ok(reader.bytes >= size * 0.9, `all read in the end (${reader.bytes})`);

    const aborted = counting(file);
    const controller = new AbortController();
    const stream = parquetSource(aborted).open({ signal: controller.signal });
    const error = await failure(
      (async () => {
        for await (const record of stream) if ((record as SourceRecord).line === 10) controller.abort();
      })(),
    );
    t.match(error, { code: 'ABORT_ERR' });
    t.ok(stream.destroyed);
    t.ok(aborted.bytes < size / 4, `aborted after reading ${aborted.bytes} bytes`);

    // Slices of a few hundred rows inside each group give the same records as whole groups.
    const head = join(dir, 'head.parquet');
    await write(head, [{ columns: COLUMNS, rows: rows.slice(0, 5000) }], { rowGroupRows: 2000 });
    t.same(
      await read(parquetSource(head, { sliceBytes: 20_000 })),
      await read(parquetSource(head)),
      'same records',
    );
  },
);
