/**
 * Parquet input, read by ranges of bytes so that a file on disk and an object in S3 are read the same way: the
 * footer first (schema, row groups), then one slice of rows at a time, column by column, through hyparquet's
 * lazy scan. A slice is a row group, or a part of one when the group is large (Spark writes 128 MB groups), so
 * memory holds one slice's values and the records not yet taken, whatever the file's size. A slice is decoded
 * only when the stream's reader wants more records (backpressure): a run that stops early reads no further.
 *
 * Column types and how values become cells: parquet-columns.ts. A file that is not Parquet, is truncated or
 * corrupt, or has a column of a type batch-infer cannot read fails the stream with BI_ERR_PARQUET naming the
 * file; a missing or unreadable file with BI_ERR_INPUT_NOT_FOUND.
 */
import { Readable } from 'node:stream';
import { open, type FileHandle } from 'node:fs/promises';
import {
  parquetMetadataAsync,
  parquetScan,
  type AsyncBuffer,
  type DecodedArray,
  type FileMetaData,
  type ParquetScan,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { BatchInferError, ErrorCodes, isBatchInferError, show } from '../errors.js';
import { PARSERS, parquetColumns, type ColumnReader } from './parquet-columns.js';
import type { Cell, RecordSource, SourceRecord, SourceSize } from './table.js';

/**
 * Random access to the bytes of one file or object: what a Parquet reader needs, and all it needs. Local files
 * are read through one; the object-storage sources give one for `s3://…/x.parquet` (ranged GETs).
 */
export interface ByteRangeReader {
  /** How errors, logs and summaries name it: a path, or a URL with any password removed. */
  readonly name: string;
  byteLength(): Promise<number>;
  /** The bytes from `start` (inclusive) to `end` (exclusive). */
  read(start: number, end: number): Promise<ArrayBuffer>;
}

/** A local file's reader: the one who opened it closes it. */
export interface FileRangeReader extends ByteRangeReader {
  close(): Promise<void>;
}

/**
 * The default of `sliceBytes`. A row group is read whole up to this size (uncompressed, as its metadata counts
 * it, and at least 8 bytes a cell: a decoded value costs a pointer at least), and in slices of this size
 * beyond. A slice's values are what memory holds of the file. Slicing has a price: hyparquet decodes every page a slice
 * touches, so a page across a slice boundary is decoded twice, and a chunk without an offset index is scanned
 * from its start each time. Measured on 1M weather rows (benchmarks/parquet-library.md): DuckDB's row groups of
 * 122,880 rows read in 3 slices took 1.8 times the CPU of whole groups. So typical groups (DuckDB's, Arrow's,
 * this sink's) are read whole, and only the large ones Spark writes (128 MB compressed) are sliced.
 */
const SLICE_BYTES = 32 << 20;
const CELL_BYTES = 8;
/**
 * A row group up to this size (compressed) is fetched in one read and its slices served from memory: one
 * ranged GET per group from object storage, and no column chunk read twice. Larger groups are read chunk by
 * chunk.
 */
const GROUP_READ_BYTES = 32 << 20;

export interface ParquetSourceOptions {
  /**
   * Memory for one slice of rows (see SLICE_BYTES): row groups larger than this are read in slices. Smaller
   * bounds memory further, at the cost of decoding some pages twice.
   * @default 33554432 (32 MiB)
   */
  sliceBytes?: number;
}

export function parquetSource(
  input: string | ByteRangeReader,
  options: ParquetSourceOptions = {},
): RecordSource {
  const sliceBytes = options.sliceBytes ?? SLICE_BYTES;
  if (!Number.isSafeInteger(sliceBytes) || sliceBytes < 1)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`sliceBytes\`: expected an integer ≥ 1, got ${show(sliceBytes)}`,
      { context: { option: 'sliceBytes' } },
    );
  const name = typeof input === 'string' ? input : input.name;
  return {
    name,
    repeatable: true,
    async size(): Promise<SourceSize> {
      const { reader, close } = await openReader(input);
      try {
        const { bytes, metadata } = await readFooter(reader);
        return { bytes, rows: Number(metadata.num_rows) };
      } finally {
        await close();
      }
    },
    open(options: { signal?: AbortSignal } = {}): Readable {
      return new ParquetRecords(input, sliceBytes, options.signal);
    },
  };
}

/** A local file as a {@link ByteRangeReader}: one handle, positional reads. */
export async function fileRangeReader(path: string): Promise<FileRangeReader> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw Object.assign(new Error('it is not a regular file'), {
        code: info.isDirectory() ? 'EISDIR' : 'ENOTFILE',
      });
    }
    size = info.size;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new BatchInferError(ErrorCodes.INPUT_NOT_FOUND, `Cannot read input ${show(path)}: ${why}`, {
      cause: err,
      context: { file: path },
    });
  }
  return {
    name: path,
    byteLength: () => Promise.resolve(size),
    async read(start, end) {
      const bytes = new Uint8Array(end - start);
      for (let done = 0; done < bytes.length;) {
        const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
        if (bytesRead === 0)
          throw new Error(`the file ended at byte ${start + done}, expected ${end} (changed while read?)`);
        done += bytesRead;
      }
      return bytes.buffer;
    },
    close: () => handle.close(),
  };
}

/** The input's reader, and how to let it go: a file opened here is closed; a reader given is the caller's. */
async function openReader(
  input: string | ByteRangeReader,
): Promise<{ reader: ByteRangeReader; close: () => Promise<void> }> {
  if (typeof input !== 'string') return { reader: input, close: () => Promise.resolve() };
  const reader = await fileRangeReader(input);
  return { reader, close: () => reader.close() };
}

function parquetError(name: string, what: string, cause?: unknown): BatchInferError {
  if (isBatchInferError(cause)) return cause;
  return new BatchInferError(ErrorCodes.PARQUET, `Cannot read Parquet file ${show(name)}: ${what}`, {
    cause,
    context: { file: name },
  });
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Bytes of a reader as hyparquet's AsyncBuffer, with room to hold one span (a row group) in memory: reads
 * inside it are served from there.
 */
class RangeBuffer implements AsyncBuffer {
  readonly byteLength: number;
  readonly #reader: ByteRangeReader;
  #held: { start: number; bytes: ArrayBuffer } | undefined;

  constructor(reader: ByteRangeReader, byteLength: number) {
    this.#reader = reader;
    this.byteLength = byteLength;
  }

  slice(start: number, end = this.byteLength): Promise<ArrayBuffer> {
    const held = this.#held;
    if (held !== undefined && start >= held.start && end <= held.start + held.bytes.byteLength)
      return Promise.resolve(held.bytes.slice(start - held.start, end - held.start));
    return this.#reader.read(start, end);
  }

  async hold(start: number, end: number): Promise<void> {
    this.#held = undefined;
    this.#held = { start, bytes: await this.#reader.read(start, end) };
  }

  release(): void {
    this.#held = undefined;
  }
}

/** Parquet's footer: `<metadata><4-byte length>PAR1`; shorter than this cannot be a file. */
const MIN_FILE = 12;

async function readFooter(
  reader: ByteRangeReader,
): Promise<{ bytes: number; metadata: FileMetaData; buffer: RangeBuffer }> {
  const bytes = await reader.byteLength();
  if (bytes < MIN_FILE)
    throw parquetError(reader.name, `it is ${bytes} bytes long, too short to be a Parquet file`);
  const buffer = new RangeBuffer(reader, bytes);
  try {
    return { bytes, metadata: await parquetMetadataAsync(buffer, { parsers: PARSERS }), buffer };
  } catch (err) {
    const what = message(err).includes('PAR1')
      ? 'it does not end with the Parquet magic bytes "PAR1": not a Parquet file, or truncated'
      : `its footer (the metadata) is corrupt: ${message(err)}`;
    throw parquetError(reader.name, what, err);
  }
}

/** A run of rows read at once: part or all of one row group. */
interface Slice {
  group: number;
  rowStart: number;
  rowEnd: number;
  /** The group's first slice: what was held of the group before is let go, ... */
  first: boolean;
  /** ... and the group's byte span read whole when it is small enough. */
  span?: [number, number];
}

/** The file's rows in slices of about `sliceBytes` each, never across a row group. */
function slicesOf(metadata: FileMetaData, columns: number, sliceBytes: number): Slice[] {
  const slices: Slice[] = [];
  let start = 0;
  metadata.row_groups.forEach((group, index) => {
    const rows = Number(group.num_rows);
    const perRow = Math.max(Number(group.total_byte_size) / Math.max(rows, 1), CELL_BYTES * columns);
    const step = Math.max(1, Math.floor(sliceBytes / perRow));
    const span = spanOf(group.columns);
    for (let at = 0; at < rows; at += step)
      slices.push({
        group: index,
        rowStart: start + at,
        rowEnd: start + Math.min(rows, at + step),
        first: at === 0,
        ...(at === 0 && span !== undefined && span[1] - span[0] <= GROUP_READ_BYTES ? { span } : {}),
      });
    start += rows;
  });
  return slices;
}

function spanOf(chunks: FileMetaData['row_groups'][number]['columns']): [number, number] | undefined {
  let start = Infinity;
  let end = 0;
  for (const { meta_data: meta } of chunks) {
    if (meta === undefined) return undefined;
    const from = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
    start = Math.min(start, from);
    end = Math.max(end, from + Number(meta.total_compressed_size));
  }
  return start < end ? [start, end] : undefined;
}

class ParquetRecords extends Readable {
  readonly #input: string | ByteRangeReader;
  readonly #sliceBytes: number;
  #close: (() => Promise<void>) | undefined;
  #buffer: RangeBuffer | undefined;
  #scan: ParquetScan | undefined;
  #readers: ColumnReader[] = [];
  #slices: Slice[] = [];
  #next = 0;
  /**
   * The slice being pushed: its columns as hyparquet decoded them (cells are made as rows are pushed, so a
   * slice is held once, not twice), the first row's number, and how many rows were pushed.
   */
  #columns: DecodedArray[] = [];
  #line = 0;
  #pushed = 0;
  #loading = false;

  constructor(input: string | ByteRangeReader, sliceBytes: number, signal: AbortSignal | undefined) {
    // Records are small; 1024 of them waiting is a few hundred kB and keeps the scorer's batches full.
    super({ objectMode: true, highWaterMark: 1024, ...(signal === undefined ? {} : { signal }) });
    this.#input = input;
    this.#sliceBytes = sliceBytes;
  }

  get #name(): string {
    return typeof this.#input === 'string' ? this.#input : this.#input.name;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#start().then(() => callback(), callback);
  }

  async #start(): Promise<void> {
    const { reader, close } = await openReader(this.#input);
    this.#close = close;
    const { metadata, buffer } = await readFooter(reader);
    const columns = parquetColumns(metadata);
    if ('reason' in columns)
      throw parquetError(this.#name, `column ${show(columns.column)}: ${columns.reason}`);
    this.#buffer = buffer;
    this.#readers = columns.readers;
    this.#slices = slicesOf(columns.metadata, columns.readers.length, this.#sliceBytes);
    const header: SourceRecord = {
      line: 0,
      values: columns.readers.map((r) => r.column.name),
      columns: columns.readers.map((r) => r.column),
    };
    this.push(header);
    try {
      this.#scan = await parquetScan({
        file: buffer,
        metadata: columns.metadata,
        compressors,
        parsers: PARSERS,
        utf8: false,
      });
    } catch (err) {
      throw parquetError(this.#name, message(err), err);
    }
  }

  override _read(): void {
    if (this.#loading) return;
    const rows = this.#columns[0]?.length ?? 0;
    while (this.#pushed < rows) {
      const at = this.#pushed++;
      const values = new Array<Cell>(this.#readers.length);
      for (let c = 0; c < values.length; c++)
        values[c] = (this.#readers[c] as ColumnReader).cell((this.#columns[c] as DecodedArray)[at]);
      if (!this.push({ line: this.#line + at, values } satisfies SourceRecord)) return;
    }
    if (this.#next >= this.#slices.length) {
      this.#columns = [];
      this.push(null);
      return;
    }
    this.#loading = true;
    this.#load(this.#slices[this.#next++] as Slice).then(
      () => {
        this.#loading = false;
        if (!this.destroyed) this._read();
      },
      (err: unknown) => this.destroy(err as Error),
    );
  }

  /** Decodes one slice, column by column, into cells. */
  async #load(slice: Slice): Promise<void> {
    this.#columns = [];
    this.#pushed = 0;
    const buffer = this.#buffer as RangeBuffer;
    const scan = this.#scan as ParquetScan;
    let column = '';
    try {
      if (slice.span !== undefined) await buffer.hold(...slice.span);
      else if (slice.first) buffer.release();
      const columns: DecodedArray[] = [];
      for (const reader of this.#readers) {
        column = reader.column.name;
        const values = await scan.readColumn({ column, rowStart: slice.rowStart, rowEnd: slice.rowEnd });
        if (values.length !== slice.rowEnd - slice.rowStart)
          throw new Error(`${values.length} values for ${slice.rowEnd - slice.rowStart} rows`);
        columns.push(values);
      }
      this.#columns = columns;
      this.#line = slice.rowStart + 1;
    } catch (err) {
      const where = `row group ${slice.group}${column === '' ? '' : `, column ${show(column)}`}`;
      throw parquetError(this.#name, `${where}: ${message(err)}`, err);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#columns = [];
    this.#buffer?.release();
    const close = this.#close;
    this.#close = undefined;
    if (close === undefined) callback(error);
    else
      close().then(
        () => callback(error),
        () => callback(error),
      );
  }
}
