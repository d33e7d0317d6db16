/**
 * CsvBatchReader: CSV bytes → batches, the CSV reader, Preprocessor and Batcher of a run in one stage. The
 * pipeline uses it for a single CSV input; it decides every row as they do (lib/core/row-preparer.ts) and
 * emits the same batches, with less work per row:
 *
 * - A plain line (no quote, no carriage return but a CRLF file's line ends, valid UTF-8) is one record whose
 *   fields are the line split at its commas, exactly as csv-parse reads it; such lines are read here, without
 *   csv-parse. The first line that is not plain, and every byte after it, go to the full reader
 *   (lib/io/csv-source.ts), started where this one stopped, so quoted fields, quote errors and bad bytes are
 *   read as they always are.
 * - A row's model inputs are written straight into the batch's tensors.
 * - A plain line travels on as its text (`PreparedRow.text`): the output writes it as it is and appends the new
 *   columns, instead of writing each value again (DESIGN.md's raw passthrough).
 */
import { isAscii } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import type { RowPreparer, RowPreparerOptions } from '../core/row-preparer.js';
import { CsvRecordReader } from '../io/csv-source.js';
import type { TextRecord } from '../io/table.js';
import type { PreparedRow } from '../types.js';
import { BatchBuilder } from './batch-builder.js';

const LF = 10;
const CR = 13;
/** A line longer than this without a line break is left to the full reader (which handles huge fields). */
const MAX_PLAIN_LINE_BYTES = 1 << 20;

export interface CsvBatchReaderOptions extends RowPreparerOptions {
  /** Rows per batch. */
  batchSize: number;
  signal?: AbortSignal | undefined;
}

/**
 * A row of a batch. A plain line keeps only its text, split again if its values are asked for (a reject, kept
 * columns): the values array it was read with dies young, not with the batch.
 */
class BatchRow implements PreparedRow {
  readonly line: number;
  readonly row: number;
  readonly text: string | undefined;
  #values: string[] | undefined;

  constructor(record: TextRecord, row: number, text: string | undefined) {
    this.line = record.line;
    this.row = row;
    this.text = text;
    this.#values = text === undefined ? record.values : undefined;
  }

  get values(): string[] {
    this.#values ??= (this.text as string).split(',');
    return this.#values;
  }
}

export class CsvBatchReader extends Transform {
  readonly #batch: BatchBuilder<BatchRow>;
  /** Before the header line has been read, the bytes so far; after it, an unfinished line. */
  #carry: Buffer | undefined;
  /** Lines read so far (blank ones included). */
  #line = 0;
  /** The input's line ends, from its header line. */
  #crlf = false;
  /** The full reader, once a line was not plain. */
  #full: CsvRecordReader | undefined;
  #failure: Error | undefined;

  constructor(options: CsvBatchReaderOptions) {
    super({
      writableObjectMode: false,
      readableObjectMode: true,
      readableHighWaterMark: 2,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.#batch = new BatchBuilder(options, options.batchSize);
  }

  /** Decides each row; its `counts`, `columns` and `busyMs` are the run's, as the Preprocessor's would be. */
  get rows(): RowPreparer {
    return this.#batch.rows;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#full !== undefined) {
      this.#full
        .write(chunk)
        .then(() => this.#rethrow())
        .then(() => callback(), callback);
      return;
    }
    const pieces = this.#pieces(chunk);
    let rest: Buffer[] | undefined;
    try {
      for (let i = 0; i < pieces.length && rest === undefined; i++) {
        const piece = pieces[i] as Buffer;
        const stop = this.#headerRead() ? this.#plainLines(piece, false) : this.#headerLine(piece, false);
        if (stop !== undefined) rest = [piece.subarray(stop), ...pieces.slice(i + 1)];
      }
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (rest === undefined) callback();
    else
      this.#handOver(rest)
        .then(() => this.#rethrow())
        .then(() => callback(), callback);
  }

  /**
   * The chunk with the unfinished line kept from the last one in front. After the header, only that line is
   * copied (completed with the chunk's first line), and the rest of the chunk is read where it is.
   */
  #pieces(chunk: Buffer): Buffer[] {
    const carry = this.#carry;
    this.#carry = undefined;
    if (carry === undefined) return [chunk];
    if (!this.#headerRead()) return [Buffer.concat([carry, chunk])];
    const lf = chunk.indexOf(LF);
    const cut = lf < 0 ? chunk.length : lf + 1;
    return [Buffer.concat([carry, chunk.subarray(0, cut)]), chunk.subarray(cut)];
  }

  override _flush(callback: TransformCallback): void {
    const bytes = this.#carry ?? Buffer.alloc(0);
    this.#carry = undefined;
    let stop: number | undefined;
    try {
      if (this.#full === undefined)
        stop = this.#headerRead() ? this.#plainLines(bytes, true) : bytes.length > 0 ? 0 : undefined;
    } catch (err) {
      callback(err as Error);
      return;
    }
    const reading = stop === undefined ? Promise.resolve() : this.#handOver([bytes.subarray(stop)]);
    reading
      .then(() => this.#full?.end())
      .then(() => {
        this.#rethrow();
        const last = this.#batch.take();
        if (last !== undefined) this.push(last);
      })
      .then(() => callback(), callback);
  }

  /**
   * The header line, if it has ended in `bytes` and is plain; returns 0 to leave the whole input to the full
   * reader (a quoted or blank header, or one that never ends), else undefined.
   */
  #headerLine(bytes: Buffer, end: boolean): number | undefined {
    const lf = bytes.indexOf(LF);
    if (lf < 0) {
      if (end || bytes.length > MAX_PLAIN_LINE_BYTES) return 0;
      this.#carry = bytes;
      return undefined;
    }
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    this.#crlf = lf > bom && bytes[lf - 1] === CR;
    const text = bytes.toString('utf8', bom, this.#crlf ? lf - 1 : lf);
    if (text.length === 0 || !plain(text, false)) return 0;
    this.rows.setColumns(text.split(','));
    this.#line = 1;
    const stop = this.#plainLines(bytes.subarray(lf + 1), end);
    return stop === undefined ? undefined : lf + 1 + stop;
  }

  /**
   * Reads the plain lines of `bytes` (the carry kept for the next chunk); at the first line that is not plain
   * returns its offset, for the full reader to go on from.
   */
  #plainLines(bytes: Buffer, end: boolean): number | undefined {
    const ascii = isAscii(bytes);
    const crlf = this.#crlf;
    let pos = 0;
    for (;;) {
      let lf = bytes.indexOf(LF, pos);
      if (lf < 0) {
        if (!end || pos === bytes.length) break;
        lf = bytes.length;
      }
      let stop = lf;
      if (crlf && lf < bytes.length) {
        if (lf === pos || bytes[lf - 1] !== CR) return pos;
        stop = lf - 1;
      }
      const text = ascii ? bytes.toString('latin1', pos, stop) : bytes.toString('utf8', pos, stop);
      if (!plain(text, !ascii)) return pos;
      this.#line++;
      pos = lf + 1;
      // A plain line passes on as its text.
      if (text.length > 0) this.#prepared({ line: this.#line, values: text.split(',') }, text);
      if (pos >= bytes.length) break;
    }
    if (pos < bytes.length) {
      if (bytes.length - pos > MAX_PLAIN_LINE_BYTES) return pos;
      this.#carry = bytes.subarray(pos);
    }
    return undefined;
  }

  /** Whether this reader read the header (until the full reader takes over, the only one that can). */
  #headerRead(): boolean {
    return this.rows.columns !== undefined;
  }

  /** A record of the full reader; an error (a header that lacks a needed column) waits for its caller. */
  #record(record: TextRecord): void {
    if (this.#failure !== undefined) return;
    try {
      this.#prepared(record, undefined);
    } catch (err) {
      this.#failure = err as Error;
    }
  }

  /** Rethrows what a record of the full reader threw, once the read that gave it is over. */
  #rethrow(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Writes a row's inputs into the batch's tensors and adds it to the batch, unless it is passed over. */
  #prepared(record: TextRecord, text: string | undefined): void {
    const row = this.#batch.prepare(record);
    if (row === undefined) return;
    const full = this.#batch.add(new BatchRow(record, row, text));
    if (full !== undefined) this.push(full);
  }

  /** Starts the full reader on `rest`, the input from the first line that is not plain. */
  async #handOver(rest: Buffer[]): Promise<void> {
    const columns = this.rows.columns;
    const full = new CsvRecordReader(
      (record) => this.#record(record),
      columns === undefined
        ? undefined
        : { header: columns, line: this.#line, recordDelimiter: this.#crlf ? '\r\n' : '\n' },
    );
    this.#full = full;
    for (const bytes of rest) if (bytes.length > 0) await full.write(bytes);
  }
}

/** A line csv-parse reads as its text split at the commas: no quote, no CR, and (when decoded) no bad byte. */
function plain(text: string, decoded: boolean): boolean {
  return !text.includes('"') && !text.includes('\r') && !(decoded && text.includes('\uFFFD'));
}
