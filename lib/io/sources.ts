/**
 * The run's input as one stream of records: a header record, then rows. Each input names its source by URL
 * scheme or extension (lib/io/locations.ts): CSV or JSON Lines files and stdin, Parquet files, S3 objects and
 * http(s) URLs of any of those formats, or a PostgreSQL query. Several inputs are read one after the other, as
 * one input: each must open with the same header as the first (it is checked, then dropped), and their rows
 * carry the source's name so a reject can be found. A pattern's `*` and `?` match within one directory (Node 20
 * has no fs.glob), in name order, so a run over `day-*.csv` or `part-*.parquet` is repeatable.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, pipeline, type Transform } from 'node:stream';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { createCsvParser } from './csv-source.js';
import { JsonlParser } from './jsonl-source.js';
import { formatOfTarget, locationKind, type DataFormat } from './locations.js';
import type { ByteRangeReader } from './parquet-source.js';
import type { RemoteBytes } from './remote-bytes.js';
import type { RecordSource, SourceRecord, SourceSize } from './table.js';

function patternRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** Input paths with patterns expanded; a pattern that matches nothing is an error, not an empty run. */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const name = basename(input);
    if (locationKind(input) !== 'file' || !/[*?]/.test(name)) {
      out.push(input);
      continue;
    }
    const dir = dirname(input);
    const entries = await readdir(dir, { withFileTypes: true }).catch((cause: unknown) => {
      throw new BatchInferError(
        ErrorCodes.INPUT_NOT_FOUND,
        `Cannot list ${show(dir)} for input ${show(input)}`,
        {
          cause,
        },
      );
    });
    const re = patternRegExp(name);
    const matches = entries
      .filter((e) => e.isFile() && re.test(e.name))
      .map((e) => e.name)
      .sort();
    if (matches.length === 0)
      throw new BatchInferError(ErrorCodes.INPUT_NOT_FOUND, `Input pattern ${show(input)} matches no file`);
    out.push(...matches.map((m) => join(dir, m)));
  }
  return out;
}

/** Total bytes of the input files: what progress measures the ETA against. */
export async function totalBytes(paths: readonly string[]): Promise<number> {
  let total = 0;
  for (const path of paths) {
    const info = await stat(path).catch((cause: unknown) => {
      throw new BatchInferError(ErrorCodes.INPUT_NOT_FOUND, `Cannot read input ${show(path)}`, {
        cause,
        context: { file: path },
      });
    });
    total += info.size;
  }
  return total;
}

function parser(format: DataFormat): Transform {
  return format === 'jsonl' ? new JsonlParser() : createCsvParser();
}

/** Parses one byte stream; `pipeline` carries a read error (ENOENT, say) to the parser's consumer. */
function parse(bytes: Readable, format: DataFormat): Transform {
  return pipeline(bytes, parser(format), () => undefined);
}

/**
 * Bytes per read from an input file. Smaller than Node's 64 KiB default: a chunk's records are then few enough
 * to die young (in V8's new space) instead of being promoted, which cut peak RSS by ~45 MB and CPU per row by
 * ~20 % at 1M rows (benchmarks/README.md).
 */
const READ_CHUNK_BYTES = 16 * 1024;

/** The bytes of stdin (`-`), a caller's stream or a file, counted by `onBytes` as they flow. */
function openBytes(input: Readable | string, onBytes: (n: number) => void): Readable {
  const bytes: Readable =
    input instanceof Readable
      ? input
      : input === '-'
        ? process.stdin
        : createReadStream(input, { highWaterMark: READ_CHUNK_BYTES });
  return counted(bytes, onBytes);
}

function counted(bytes: Readable, onBytes: (n: number) => void): Readable {
  bytes.on('data', (chunk: Buffer) => onBytes(chunk.length));
  return bytes;
}

/** Where a source's records come from besides its own location: the options of `--input`. */
export interface InputOptions {
  /** The format of a file's or object's bytes; by extension when undefined. */
  inputFormat: DataFormat | undefined;
  /** A PostgreSQL input's query, or its table. */
  query: string | undefined;
  inputTable: string | undefined;
  /** A PostgreSQL input's shard: rows whose `by` column hashes to `index` of `count`. */
  shardBy: { index: number; count: number; by: string } | undefined;
}

/** A source of text records (CSV, JSON Lines) over bytes opened when it is read. */
function textSource(
  name: string,
  format: DataFormat,
  bytes: () => Readable,
  size: () => Promise<SourceSize>,
): RecordSource {
  return { name, repeatable: true, size, open: () => parse(bytes(), format) };
}

/**
 * A remote object's bytes (S3, http): how to read them whole or by ranges. The SDK and undici are loaded only
 * by a run that reads one (a local run starts without them: test/cli/lazy-modules.test.ts).
 */
async function remoteBytes(target: string): Promise<RemoteBytes> {
  return locationKind(target) === 's3'
    ? (await import('./s3-bytes.js')).openS3Bytes(target)
    : (await import('./http-bytes.js')).openHttpBytes(target);
}

async function parquetSource(input: string | ByteRangeReader): Promise<RecordSource> {
  return (await import('./parquet-source.js')).parquetSource(input);
}

/** The source an input names: a file, stdin, a Parquet file, an object, a URL or a PostgreSQL query. */
export async function inputSource(
  target: string,
  o: InputOptions,
  onBytes: (n: number) => void,
): Promise<RecordSource> {
  const kind = locationKind(target);
  if (kind === 'postgres') {
    if ((o.query === undefined) === (o.inputTable === undefined))
      throw new BatchInferError(
        ErrorCodes.INVALID_OPTION,
        'A PostgreSQL input needs exactly one of `query` (--query) and `inputTable` (--input-table)',
        { context: { option: 'query' } },
      );
    return (await import('./postgres-source.js')).postgresSource(target, {
      ...(o.query === undefined ? {} : { query: o.query }),
      ...(o.inputTable === undefined ? {} : { table: o.inputTable }),
      ...(o.shardBy === undefined ? {} : { shard: o.shardBy }),
    });
  }
  const format = formatOfTarget(target, kind === 'stdio' ? (o.inputFormat ?? 'csv') : o.inputFormat);
  if (kind === 'file' || kind === 'stdio') {
    if (format === 'parquet') {
      if (kind === 'stdio')
        throw new BatchInferError(
          ErrorCodes.INVALID_OPTION,
          'Parquet cannot be read from stdin: give its path',
          {
            context: { option: 'inputFormat' },
          },
        );
      return parquetSource(target);
    }
    return textSource(
      target,
      format,
      () => openBytes(target, onBytes),
      async () => (kind === 'file' ? { bytes: await totalBytes([target]) } : {}),
    );
  }
  const remote = await remoteBytes(target);
  if (format === 'parquet') return parquetSource(remote.rangeReader());
  return textSource(
    remote.name,
    format,
    () => counted(remote.bytes(), onBytes),
    async () => {
      const bytes = await remote.size();
      return bytes === undefined ? {} : { bytes };
    },
  );
}

async function* concatenated(
  sources: readonly RecordSource[],
  signal: AbortSignal | undefined,
): AsyncGenerator<SourceRecord> {
  let header: { values: SourceRecord['values']; name: string } | undefined;
  for (const source of sources) {
    let first = true;
    const file = source.name;
    for await (const record of source.open(
      signal === undefined ? {} : { signal },
    ) as AsyncIterable<SourceRecord>) {
      if (first) {
        first = false;
        if (header === undefined) {
          header = { values: record.values, name: file };
          // One file's REQUIRED column may be another's OPTIONAL: with several, no column is said to be required.
          if (sources.length > 1 && record.columns !== undefined) {
            yield { ...record, columns: record.columns.map(({ name, type }) => ({ name, type })), file };
            continue;
          }
        } else if (record.values.join('\u0000') !== header.values.join('\u0000'))
          throw new BatchInferError(
            ErrorCodes.HEADER_MISMATCH,
            `Input ${show(file)} has columns ${record.values.join(', ')}; ${show(header.name)} has ${header.values.join(', ')}`,
            { context: { file } },
          );
        else continue;
      }
      yield sources.length > 1 ? { ...record, file } : record;
    }
  }
}

/**
 * Opens the input's bytes when it is one local CSV source (a file, stdin, a stream), which the pipeline reads
 * with its CSV batch reader; undefined for anything else, which goes through {@link openRecords}.
 * Call the opener when the stream's consumer is ready: counting bytes starts the flow.
 */
export function csvBytesOpener(
  input: readonly string[] | Readable,
  explicit: DataFormat | undefined,
  onBytes: (n: number) => void,
): (() => Readable) | undefined {
  if (input instanceof Readable)
    return (explicit ?? 'csv') === 'csv' ? () => openBytes(input, onBytes) : undefined;
  const target = input.length === 1 ? (input[0] as string) : undefined;
  if (target === undefined) return undefined;
  const kind = locationKind(target);
  if (
    kind === 'postgres' ||
    formatOfTarget(target, kind === 'stdio' ? (explicit ?? 'csv') : explicit) !== 'csv'
  )
    return undefined;
  if (kind === 'file' || kind === 'stdio') return () => openBytes(target, onBytes);
  return undefined;
}

/** Records of the input: its sources in order, as one input (headers must agree), or a stream of bytes. */
export function openRecords(
  input: readonly RecordSource[] | Readable,
  explicit: DataFormat | undefined,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Readable {
  if (input instanceof Readable) {
    if (explicit === 'parquet')
      throw new BatchInferError(ErrorCodes.INVALID_OPTION, 'Parquet cannot be read from a stream', {
        context: { option: 'inputFormat' },
      });
    return parse(openBytes(input, onBytes), explicit ?? 'csv');
  }
  if (input.length === 1) return (input[0] as RecordSource).open(signal === undefined ? {} : { signal });
  return Readable.from(concatenated(input, signal), { objectMode: true, highWaterMark: 1024 });
}
