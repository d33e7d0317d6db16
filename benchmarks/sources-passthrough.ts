/**
 * Child-process entry of the sources figure (benchmarks/figures/sources.ts): the pass-through of a typed
 * source into a typed sink with the same libraries a scoring run uses, and no scoring. Every record of
 * `parquetSource` / `postgresSource` goes, cells as they are, into `parquetSink` / `postgresSink` as RowBatches
 * of 1024 rows (with the source's header columns), respecting the sink's backpressure; then the sink commits.
 *
 * The library is the built one (dist/lib, as `batch-infer run` runs it), so `npm run build` first.
 *
 *   node --import tsx benchmarks/sources-passthrough.ts '{"kind":"parquet","input":"in.parquet","output":"out.parquet"}'
 *   node --import tsx benchmarks/sources-passthrough.ts '{"kind":"postgres","url":"postgres://…","inputTable":"t","outputTable":"copy"}'
 *
 * Prints one JSON line: { rows, ms } (ms from opening the source to the sink's commit, as a run's duration_ms).
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import type { Cell, Column, RecordSink, RecordSource, SourceRecord } from '../lib/io/table.js';

export type PassthroughTask =
  | { kind: 'parquet'; input: string; output: string }
  | { kind: 'postgres'; url: string; inputTable: string; outputTable: string };

const BATCH_ROWS = 1024;

async function passthrough(task: PassthroughTask): Promise<{ rows: number; ms: number }> {
  const lib = (await import(
    pathToFileURL(join(PACKAGE_ROOT, 'dist', 'lib', 'index.js')).href
  )) as typeof import('../lib/index.js');
  const started = performance.now();
  let source: RecordSource;
  let sink: RecordSink;
  if (task.kind === 'parquet') {
    source = lib.parquetSource(task.input);
    sink = lib.parquetSink(task.output);
  } else {
    source = lib.postgresSource(task.url, { table: task.inputTable });
    sink = lib.postgresSink(task.url, { table: task.outputTable, ifExists: 'fail' });
  }
  const out = sink.stream;
  let columns: readonly Column[] | undefined;
  let batch: (readonly Cell[])[] = [];
  let rows = 0;
  const write = async (): Promise<void> => {
    if (columns === undefined) throw new Error(`${source.name}: no header record`);
    const ok = out.write({ columns, rows: batch });
    batch = [];
    if (!ok) await once(out, 'drain');
  };
  try {
    for await (const record of source.open() as AsyncIterable<SourceRecord>) {
      if (record.line === 0) {
        if (record.columns === undefined) throw new Error(`${source.name}: the header has no column types`);
        columns = record.columns;
        continue;
      }
      batch.push(record.values);
      rows += 1;
      if (batch.length === BATCH_ROWS) await write();
    }
    if (batch.length > 0 || rows === 0) await write();
    out.end();
    await finished(out);
    await sink.commit();
  } catch (err) {
    await sink.discard().catch(() => undefined);
    throw err;
  }
  return { rows, ms: performance.now() - started };
}

const raw = process.argv[2];
if (raw === undefined) throw new Error('usage: sources-passthrough.ts <task JSON>');
console.log(JSON.stringify(await passthrough(JSON.parse(raw) as PassthroughTask)));
