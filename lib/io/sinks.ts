/**
 * Where a run's output goes, by the target's URL scheme or extension (lib/io/locations.ts): CSV bytes to a file
 * (written atomically, see atomic-file.ts), stdout (`-`), a caller's Writable or an S3 object; typed rows to a
 * Parquet file or object, or a PostgreSQL table. And the rejects CSV writer on top of a byte sink.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify, type Stringifier } from 'csv-stringify';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { cellText } from '../core/cell-text.js';
import type { RejectedRow } from '../types.js';
import { openAtomicFile } from './atomic-file.js';
import { formatOfTarget, locationKind, redactUrl } from './locations.js';
import type { IfExists } from './postgres-sink.js';
import { tableRejectsWriter } from './rejects-table.js';
import { isRecordSink, type Column, type RecordSink } from './table.js';

const done = (): Promise<void> => Promise.resolve();

/** A CSV byte sink: a file (atomic), stdout (`-`) or a caller's Writable. */
export function openSink(target: string | Writable): RecordSink {
  if (typeof target !== 'string')
    return { kind: 'bytes', stream: target, name: '<stream>', commit: done, discard: done };
  if (target === '-')
    return { kind: 'bytes', stream: process.stdout, name: '<stdout>', commit: done, discard: done };
  const file = openAtomicFile(target);
  return {
    kind: 'bytes',
    stream: file.stream,
    name: target,
    commit: () => file.commit(),
    discard: () => file.discard(),
  };
}

/**
 * The rejects' sink: a CSV file (atomic), stdout or a Writable, or a table, `postgres://…#table` (created, or
 * appended to, as `ifExists` says for the output table).
 */
export async function openRejects(target: string | Writable, ifExists: IfExists): Promise<RecordSink> {
  if (typeof target === 'string' && locationKind(target) === 'postgres') {
    const hash = target.lastIndexOf('#');
    if (hash < 0 || hash === target.length - 1)
      throw refused(
        'A postgres:// rejects target names its table after #: postgres://…/db#rejects',
        'rejects',
      );
    const { postgresSink } = await import('./postgres-sink.js');
    return postgresSink(target.slice(0, hash), { table: target.slice(hash + 1), ifExists });
  }
  if (typeof target === 'string' && locationKind(target) !== 'file' && target !== '-')
    throw refused(
      `Rejects go to a CSV file or a postgres://…#table, not ${show(redactUrl(target))}`,
      'rejects',
    );
  return openSink(target);
}

/** What an output needs besides its location: the options of `--output`. */
export interface OutputOptions {
  /** The format of a file's or object's bytes; by extension when undefined. */
  outputFormat: 'csv' | 'parquet' | undefined;
  /** A PostgreSQL output's table, and what to do when it exists. */
  outputTable: string | undefined;
  ifExists: IfExists;
}

function refused(message: string, option: string): BatchInferError {
  return new BatchInferError(ErrorCodes.INVALID_OPTION, message, { context: { option } });
}

/**
 * A Parquet object: written to a local temporary file (Parquet's footer comes last, so it cannot be streamed
 * to S3 as it is made), then uploaded by `commit()`; the object appears only when the upload completes.
 */
async function parquetObjectSink(url: string): Promise<RecordSink> {
  const local = join(tmpdir(), `batch-infer-${process.pid}-${randomUUID()}.parquet`);
  const file = await parquetSink(local);
  const { uploadFileToS3 } = await import('./s3-sink.js');
  return {
    kind: 'rows',
    columnar: true,
    stream: file.stream,
    name: redactUrl(url),
    async commit() {
      await file.commit();
      try {
        await uploadFileToS3(local, url);
      } finally {
        await rm(local, { force: true });
      }
    },
    discard: () => file.discard(),
  };
}

async function parquetSink(path: string): Promise<RecordSink> {
  return (await import('./parquet-sink.js')).parquetSink(path);
}

/** The sink an output names; the packages of a Parquet, PostgreSQL or S3 sink load only when one is used. */
export async function openOutput(
  target: string | Writable | RecordSink,
  o: OutputOptions,
): Promise<RecordSink> {
  if (isRecordSink(target)) return target;
  if (typeof target !== 'string') {
    if (o.outputFormat === 'parquet')
      throw refused('Parquet cannot be written to a stream: give a path', 'outputFormat');
    return openSink(target);
  }
  const kind = locationKind(target);
  if (kind === 'postgres') {
    if (o.outputTable === undefined)
      throw refused('A PostgreSQL output needs `outputTable` (--output-table)', 'outputTable');
    const { postgresSink } = await import('./postgres-sink.js');
    return postgresSink(target, { table: o.outputTable, ifExists: o.ifExists });
  }
  if (o.outputTable !== undefined)
    throw refused('Option `outputTable` is for a postgres:// output', 'outputTable');
  if (kind === 'http')
    throw refused(
      `Cannot write to an http(s) URL (${show(redactUrl(target))}): use s3:// or a file`,
      'output',
    );
  const format = formatOfTarget(target, kind === 'stdio' ? (o.outputFormat ?? 'csv') : o.outputFormat);
  if (format === 'jsonl')
    throw refused('JSON Lines output is not supported: write CSV or Parquet', 'outputFormat');
  if (kind === 's3')
    return format === 'parquet'
      ? parquetObjectSink(target)
      : (await import('./s3-sink.js')).s3Sink(target, { contentType: 'text/csv' });
  if (format === 'parquet') {
    if (kind === 'stdio') throw refused('Parquet cannot be written to stdout: give a path', 'outputFormat');
    return parquetSink(target);
  }
  return openSink(target);
}

export interface RejectsWriter {
  write(row: RejectedRow): void;
  end(): Promise<void>;
}

/**
 * Writes rejects as they come; they are few, so the stringifier's buffer absorbs them without backpressure.
 * With several input files, a `file` column before `line` says which one a row came from. The rejects are not
 * a stage of the run's pipeline: an error of their file (it cannot be created, the disk is full) is kept and
 * thrown by `end()`, rather than crashing the process as an unheard 'error' event.
 */
export function rejectsWriter(
  sink: RecordSink | undefined,
  inputColumns: () => readonly Column[] | undefined,
  withFile: boolean,
): RejectsWriter {
  if (sink === undefined) return { write: () => undefined, end: done };
  if (sink.kind === 'rows') return tableRejectsWriter(sink, inputColumns, withFile);
  const columns = (): string[] | undefined => inputColumns()?.map((c) => c.name);
  const stringifier: Stringifier = stringify();
  let failure: Error | undefined;
  sink.stream.on('error', (err) => {
    failure ??= err;
    stringifier.destroy();
  });
  stringifier.pipe(sink.stream);
  let headerWritten = false;
  const header = (): void => {
    if (headerWritten) return;
    headerWritten = true;
    stringifier.write([...(columns() ?? []), ...(withFile ? ['file'] : []), 'line', 'error']);
  };
  return {
    write(row) {
      if (failure !== undefined) return;
      header();
      // A short row is padded so `line` and `error` stay under their headers; a long row keeps its extra
      // cells (nothing of the input is dropped) and the error says how many fields it had.
      const width = columns()?.length ?? 0;
      const text = row.values.map(cellText);
      const values =
        text.length < width ? [...text, ...new Array<string>(width - text.length).fill('')] : text;
      stringifier.write([...values, ...(withFile ? [row.file ?? ''] : []), String(row.line), row.error]);
    },
    async end() {
      if (failure === undefined) {
        header();
        stringifier.end();
        await finished(sink.stream).catch((err: unknown) => (failure ??= err as Error));
      }
      if (failure !== undefined) throw failure;
    },
  };
}
