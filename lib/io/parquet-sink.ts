/**
 * Parquet output with typed columns (lib/io/table.ts's ColumnType onto Parquet's; OPTIONAL, so any cell may be
 * null, except a column marked `required`, such as a model's outputs), written incrementally: rows are held
 * until a row group is full, the group is encoded by hyparquet-writer's ParquetWriter and its bytes written to
 * the file before more rows are taken. Memory holds one row group, whatever the output's size. The footer
 * (schema, row groups, page indexes) is written at the end; the file is written under a temporary name and
 * renamed by `commit()` (atomic-file.ts), so a failed or killed run leaves no partial Parquet file. It takes
 * RowBatches and ColumnBatches (`columnar`): a run gives it the latter.
 *
 * The first batch gives the schema; a run with no rows sends an empty one (`rows: []`, or `length: 0`), and
 * the file then has the columns and no row groups.
 */
import { Writable } from 'node:stream';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { CompressionCodec, DecodedArray } from 'hyparquet';
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { openAtomicFile } from './atomic-file.js';
import { outputError } from './output-error.js';
import {
  isColumnBatch,
  type Cell,
  type Column,
  type ColumnBatch,
  type ColumnType,
  type RecordSink,
  type RowBatch,
} from './table.js';

export type ParquetCompression = 'snappy' | 'gzip' | 'brotli' | 'uncompressed';

export interface ParquetSinkOptions {
  /**
   * Rows per row group: what memory holds before it is written, and the unit a reader (Spark, DuckDB) splits work by.
   * @default 65536
   */
  rowGroupRows?: number;
  /**
   * The codec of every column. zstd is not offered: Node 20's zlib cannot write it.
   * @default 'snappy'
   */
  compression?: ParquetCompression;
}

const CODECS: Readonly<Record<ParquetCompression, CompressionCodec>> = {
  snappy: 'SNAPPY',
  gzip: 'GZIP',
  brotli: 'BROTLI',
  uncompressed: 'UNCOMPRESSED',
};

/** Snappy is hyparquet-writer's own; the others are Node's zlib. */
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => gzipSync(input),
  BROTLI: (input: Uint8Array) => brotliCompressSync(input),
};

const ELEMENTS: Readonly<Record<ColumnType, Omit<SchemaElement, 'name'>>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  boolean: { type: 'BOOLEAN' },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
  float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' },
};

function normalize(options: ParquetSinkOptions): Required<ParquetSinkOptions> {
  const rowGroupRows = options.rowGroupRows ?? 65536;
  if (!Number.isSafeInteger(rowGroupRows) || rowGroupRows < 1)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`rowGroupRows\`: expected an integer ≥ 1, got ${show(rowGroupRows)}`,
      { context: { option: 'rowGroupRows' } },
    );
  const compression = options.compression ?? 'snappy';
  if (!Object.hasOwn(CODECS, compression))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`compression\`: expected one of ${Object.keys(CODECS).join(', ')}, got ${show(compression)}`,
      { context: { option: 'compression' } },
    );
  return { rowGroupRows, compression };
}

export function parquetSink(path: string, options: ParquetSinkOptions = {}): RecordSink {
  const settings = normalize(options);
  const file = openAtomicFile(path);
  const stream = new ParquetStream(path, file.stream, settings);
  return {
    kind: 'rows',
    columnar: true,
    name: path,
    stream,
    async commit() {
      await file.commit();
    },
    async discard() {
      stream.destroy();
      await file.discard();
    },
  };
}

/** hyparquet-writer's byte buffer, emptied into the file after each row group and at the end. */
class FileBytes extends ByteWriter {
  readonly #out: Writable;

  constructor(out: Writable) {
    super(1 << 20);
    this.#out = out;
  }

  flush(): Promise<void> {
    const chunk = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    return new Promise((resolve, reject) => {
      this.#out.write(chunk, (err) => (err === undefined || err === null ? resolve() : reject(err)));
    });
  }
}

class ParquetStream extends Writable {
  readonly #path: string;
  readonly #out: Writable;
  readonly #rowGroupRows: number;
  readonly #codec: CompressionCodec;
  #columns: readonly Column[] = [];
  #fits: ((cell: Exclude<Cell, null>) => unknown)[] = [];
  #required: boolean[] = [];
  #writer: ParquetWriter | undefined;
  readonly #bytes: FileBytes;
  /**
   * The row group being filled, column by column: the values are moved out of the rows as batches come, so
   * the rows themselves die young. A column of numbers is a typed array of the group's size, made once.
   */
  #values: ColumnValues[] = [];
  #count = 0;

  constructor(path: string, out: Writable, settings: Required<ParquetSinkOptions>) {
    super({ objectMode: true, highWaterMark: 4 });
    this.#path = path;
    this.#out = out;
    this.#rowGroupRows = settings.rowGroupRows;
    this.#codec = CODECS[settings.compression];
    this.#bytes = new FileBytes(out);
    // The file's errors (no space, no permission) fail this stream; they already name the file.
    out.on('error', (err) => this.destroy(err));
  }

  override _write(
    batch: RowBatch | ColumnBatch,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#take(batch).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#values = [];
    // After a clean finish the file closes itself; otherwise it is torn down here (discard removes it).
    if (!this.writableFinished) this.#out.destroy();
    callback(error);
  }

  async #take(batch: RowBatch | ColumnBatch): Promise<void> {
    if (this.#writer === undefined) this.#start(batch.columns);
    if (isColumnBatch(batch)) {
      await this.#takeColumns(batch);
      return;
    }
    const width = this.#fits.length;
    for (const row of batch.rows) {
      const at = this.#count;
      for (let c = 0; c < width; c++) this.#put(c, at, row[c] ?? null);
      if (++this.#count >= this.#rowGroupRows) await this.#writeGroup();
    }
  }

  /** A column batch, in runs that fill the row group: a typed array of numbers is copied as it is. */
  async #takeColumns(batch: ColumnBatch): Promise<void> {
    const width = this.#fits.length;
    for (let c = 0; c < width; c++) {
      const length = batch.cells[c]?.length ?? 0;
      if (length < batch.length)
        throw outputError(
          this.#path,
          new Error(
            `column ${show((this.#columns[c] as Column).name)} has ${length} cells for ${batch.length} rows`,
          ),
        );
    }
    for (let from = 0; from < batch.length;) {
      const at = this.#count;
      const n = Math.min(batch.length - from, this.#rowGroupRows - at);
      for (let c = 0; c < width; c++) {
        const cells = batch.cells[c] as ColumnBatch['cells'][number];
        const column = this.#values[c] as ColumnValues;
        if (ArrayBuffer.isView(cells) && column instanceof NumberValues && column.takesNumbers(cells))
          column.setRun(at, cells.subarray(from, from + n));
        else for (let i = 0; i < n; i++) this.#put(c, at + i, cells[from + i] ?? null);
      }
      from += n;
      this.#count += n;
      if (this.#count >= this.#rowGroupRows) await this.#writeGroup();
    }
  }

  /** Cell `c` of row `at` of the group: fitted to its column, or a null where the column allows one. */
  #put(c: number, at: number, cell: Cell): void {
    const column = this.#values[c] as ColumnValues;
    if (cell === null) {
      if (this.#required[c] === true) throw this.#misfit(c, cell);
      column.setNull(at);
      return;
    }
    const value = (this.#fits[c] as (cell: Exclude<Cell, null>) => unknown)(cell);
    if (value === undefined) throw this.#misfit(c, cell);
    column.set(at, value);
  }

  #start(columns: readonly Column[]): void {
    this.#columns = columns;
    this.#fits = columns.map((c) => FIT[c.type]);
    this.#required = columns.map((c) => c.required === true);
    this.#values = columns.map((c) => columnValues(c.type, this.#rowGroupRows));
    const schema: SchemaElement[] = [
      { name: 'root', num_children: columns.length },
      ...columns.map((c) => ({
        name: c.name,
        repetition_type: c.required === true ? ('REQUIRED' as const) : ('OPTIONAL' as const),
        ...ELEMENTS[c.type],
      })),
    ];
    this.#writer = new ParquetWriter({
      writer: this.#bytes,
      schema,
      codec: this.#codec,
      compressors: COMPRESSORS,
      createdBy: 'batch-infer (hyparquet-writer)',
    });
  }

  async #writeGroup(): Promise<void> {
    const rows = this.#count;
    this.#count = 0;
    // hyparquet-writer encodes the group before write() returns: the columns' buffers are free again after.
    const columnData: ColumnSource[] = this.#columns.map((column, c) => ({
      name: column.name,
      data: (this.#values[c] as ColumnValues).take(rows),
    }));
    await this.#writer?.write({ columnData, rowGroupSize: rows });
  }

  async #finish(): Promise<void> {
    if (this.#writer === undefined)
      throw outputError(this.#path, new Error('no RowBatch reached the sink, so the output has no columns'));
    if (this.#count > 0) await this.#writeGroup();
    // The footer: ParquetWriter appends it to the buffer (its finish() on a ByteWriter writes nothing out).
    await this.#writer.finish();
    await this.#bytes.flush();
    await new Promise<void>((resolve, reject) => {
      this.#out.once('error', reject);
      this.#out.end(() => resolve());
    });
  }

  #misfit(c: number, cell: Cell): BatchInferError {
    const column = this.#columns[c] as Column;
    const shown = typeof cell === 'bigint' ? `${cell}n` : show(cell);
    return outputError(
      this.#path,
      new Error(`column ${show(column.name)} is ${column.type}, a cell is ${shown}`),
    );
  }
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** A non-null cell as the column type's value, or undefined when it does not fit. */
const FIT: Readonly<Record<ColumnType, (cell: Exclude<Cell, null>) => unknown>> = {
  // Text is text; a number or a boolean in a string column (a label) is written as its text.
  string: (cell) => (typeof cell === 'string' ? cell : String(cell)),
  boolean: (cell) => (typeof cell === 'boolean' ? cell : undefined),
  int32: (cell) =>
    typeof cell === 'number' && Number.isInteger(cell) && (cell | 0) === cell ? cell : undefined,
  int64: (cell) => {
    const n = typeof cell === 'number' && Number.isSafeInteger(cell) ? BigInt(cell) : cell;
    return typeof n === 'bigint' && n >= INT64_MIN && n <= INT64_MAX ? n : undefined;
  },
  float32: (cell) => (typeof cell === 'number' ? cell : undefined),
  float64: (cell) => (typeof cell === 'number' ? cell : undefined),
};

/** A column's values in the row group being filled. */
interface ColumnValues {
  set(at: number, value: unknown): void;
  setNull(at: number): void;
  /** The first `rows` values as hyparquet-writer takes them (nulls as null), and the column emptied. */
  take(rows: number): DecodedArray;
}

type NumberArray = Float32Array | Float64Array | Int32Array;

/** Numbers in a typed array of the group's size, made once; the rows that are null, apart. */
class NumberValues implements ColumnValues {
  readonly #values: NumberArray;
  #nulls: number[] = [];

  constructor(values: NumberArray) {
    this.#values = values;
  }

  set(at: number, value: unknown): void {
    this.#values[at] = value as number;
  }

  /** Whether {@link setRun} takes this typed array's numbers as they are (they fit the column's type). */
  takesNumbers(numbers: NumberArray): boolean {
    // Any numbers fit a float column; an int32 column takes int32s.
    return !(this.#values instanceof Int32Array) || numbers instanceof Int32Array;
  }

  /** Rows `at` … of a run of numbers that {@link takesNumbers} accepted. */
  setRun(at: number, numbers: NumberArray): void {
    this.#values.set(numbers, at);
  }

  setNull(at: number): void {
    this.#nulls.push(at);
  }

  take(rows: number): DecodedArray {
    const values = this.#values.subarray(0, rows);
    const nulls = this.#nulls;
    if (nulls.length === 0) return values;
    this.#nulls = [];
    const data: (number | null)[] = Array.from(values);
    for (const at of nulls) data[at] = null;
    return data;
  }
}

/** Any other type: an array of the values (strings, booleans, bigints) and nulls. */
class ArrayValues implements ColumnValues {
  #values: unknown[] = [];

  set(at: number, value: unknown): void {
    this.#values[at] = value;
  }

  setNull(at: number): void {
    this.#values[at] = null;
  }

  take(rows: number): DecodedArray {
    const values = this.#values;
    this.#values = [];
    values.length = rows;
    return values;
  }
}

function columnValues(type: ColumnType, rows: number): ColumnValues {
  if (type === 'float32') return new NumberValues(new Float32Array(rows));
  if (type === 'float64') return new NumberValues(new Float64Array(rows));
  if (type === 'int32') return new NumberValues(new Int32Array(rows));
  return new ArrayValues();
}
