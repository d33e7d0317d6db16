/**
 * The run's input as one stream of records: a header record, then rows. Several files are read one after the
 * other, as one input: each must open with the same header as the first (it is checked, then dropped), and
 * their rows carry the file name so a reject can be found. A pattern's `*` and `?` match within one directory
 * (Node 20 has no fs.glob), in name order, so a run over `day-*.csv` is repeatable.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { Readable, pipeline, type Transform } from 'node:stream';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { InputFormat } from '../pipeline-options.js';
import type { SourceRecord } from '../types.js';
import { createCsvParser } from './csv-source.js';
import { JsonlParser } from './jsonl-source.js';

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
    if (!/[*?]/.test(name)) {
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

/** `jsonl` for `.jsonl`/`.ndjson` files, else `csv`, unless the user said. */
export function formatOf(path: string | undefined, explicit: InputFormat | undefined): InputFormat {
  if (explicit !== undefined) return explicit;
  const ext = path === undefined ? '' : extname(path).toLowerCase();
  return ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'csv';
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

function parser(format: InputFormat): Transform {
  return format === 'jsonl' ? new JsonlParser() : createCsvParser();
}

/** Parses one byte stream; `pipeline` carries a read error (ENOENT, say) to the parser's consumer. */
function parse(bytes: Readable, format: InputFormat): Transform {
  return pipeline(bytes, parser(format), () => undefined);
}

/**
 * Bytes per read from an input file. Smaller than Node's 64 KiB default: a chunk's records are then few enough
 * to die young (in V8's new space) instead of being promoted, which cut peak RSS by ~45 MB and CPU per row by
 * ~20 % at 1M rows (benchmarks/README.md).
 */
const READ_CHUNK_BYTES = 16 * 1024;

/** The bytes of one input (a stream, stdin for `-`, or a file), counted by `onBytes` as they flow. */
function openBytes(input: Readable | string, onBytes: (n: number) => void): Readable {
  const bytes: Readable =
    input instanceof Readable
      ? input
      : input === '-'
        ? process.stdin
        : createReadStream(input, { highWaterMark: READ_CHUNK_BYTES });
  bytes.on('data', (chunk: Buffer) => onBytes(chunk.length));
  return bytes;
}

async function* concatenated(
  paths: readonly string[],
  format: (path: string) => InputFormat,
  onBytes: (n: number) => void,
): AsyncGenerator<SourceRecord> {
  let header: { values: SourceRecord['values']; file: string } | undefined;
  for (const file of paths) {
    let first = true;
    for await (const record of parse(openBytes(file, onBytes), format(file)) as AsyncIterable<SourceRecord>) {
      if (first) {
        first = false;
        if (header === undefined) header = { values: record.values, file };
        else if (record.values.join('\u0000') !== header.values.join('\u0000'))
          throw new BatchInferError(
            ErrorCodes.HEADER_MISMATCH,
            `Input ${show(file)} has columns ${record.values.join(', ')}; ${show(header.file)} has ${header.values.join(', ')}`,
            { context: { file } },
          );
        else continue;
      }
      yield paths.length > 1 ? { ...record, file } : record;
    }
  }
}

/**
 * Opens the input's bytes, when it is one CSV source (a file, stdin or a stream), which the pipeline reads
 * with its CSV batch reader; undefined for several files or JSON Lines, which go through {@link openRecords}.
 * Call the opener when the stream's consumer is ready: counting bytes starts the flow.
 */
export function csvBytesOpener(
  input: readonly string[] | Readable,
  explicit: InputFormat | undefined,
  onBytes: (n: number) => void,
): (() => Readable) | undefined {
  const path = input instanceof Readable ? undefined : input.length === 1 ? input[0] : null;
  if (path === null || formatOf(path === '-' ? undefined : path, explicit) !== 'csv') return undefined;
  return () => openBytes(input instanceof Readable ? input : (path as string), onBytes);
}

/** Records of the input: files (in order, as one input), stdin (`-`), or a stream of bytes. */
export function openRecords(
  input: readonly string[] | Readable,
  explicit: InputFormat | undefined,
  onBytes: (n: number) => void,
): Readable {
  if (input instanceof Readable || (input.length === 1 && input[0] === '-'))
    return parse(openBytes(input instanceof Readable ? input : '-', onBytes), formatOf(undefined, explicit));
  return Readable.from(
    concatenated(input, (file) => formatOf(file, explicit), onBytes),
    { objectMode: true, highWaterMark: 1024 },
  );
}
