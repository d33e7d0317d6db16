/**
 * CSV input: csv-parse configured for real-world files (BOM, CRLF or LF, quoted fields with commas and
 * newlines, blank lines skipped). Records come out as `{ line, values }` with the 1-based line the record
 * starts on, so a reject can be found in the source. After the header, a bad row is not an error of the run
 * but a record with an `error`, for the Preprocessor to reject (rows with the wrong number of fields it finds
 * itself):
 * - a field that is not valid UTF-8 (csv-parse decodes the bytes to U+FFFD, so the text would not be the input's);
 * - a quote error: a stray quote, text after a closing quote, a quote never closed. csv-parse stops at one, so
 *   the failing record's first line becomes the reject and a fresh csv-parse goes on from the next line, fed
 *   from the bytes kept since the last good record (csv-parse holds those too, as the record in progress).
 * A quote error before the first record ends is an error of the run (BI_ERR_CSV_PARSE): there is no header.
 */
import { Transform } from 'node:stream';
import { Parser, type Options } from 'csv-parse';
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { TextRecord } from './table.js';

/** A place in the input: the line that ends there and the byte offset after it. */
interface Position {
  line: number;
  byte: number;
}

/** What is read of csv-parse's errors (CsvError): its code, the 0-based field and the line it stopped on. */
type ParseError = Error & { code?: unknown; column?: unknown; lines?: unknown };

const QUOTE_ERRORS: ReadonlySet<string> = new Set([
  'INVALID_OPENING_QUOTE',
  'CSV_INVALID_CLOSING_QUOTE',
  'CSV_QUOTE_NOT_CLOSED',
]);

const LF = 10;
const CR = 13;

const OPTIONS: Readonly<Options> = Object.freeze({
  bom: true,
  skip_empty_lines: true,
  relax_column_count: true,
});

/** Where a reader takes over from one that read the input's start (lib/streams/csv-batch-reader.ts). */
export interface CsvResume {
  /** The input's columns: the header was read already. */
  header: readonly string[];
  /** The line before the first byte this reader is given (the last whole record's, or a blank line's). */
  line: number;
  /** The record delimiter csv-parse found in the header line (it detects it once, from the first line). */
  recordDelimiter: '\n' | '\r\n';
}

/**
 * csv-parse with its records taken as they are pushed. Its `on_record` option would do the same, but makes it
 * build two info objects per record (a copy of `info` and a context around it); what is needed of them, a few
 * numbers, is read from the parser's own `info` instead: it holds at the push what the context would.
 */
class RecordParser extends Parser {
  readonly #onRecord: (values: string[]) => void;

  constructor(onRecord: (values: string[]) => void, recordDelimiter: string | undefined) {
    super(recordDelimiter === undefined ? OPTIONS : { ...OPTIONS, record_delimiter: recordDelimiter });
    this.#onRecord = onRecord;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(chunk, encoding);
    this.#onRecord(chunk as string[]);
    return true;
  }
}

/**
 * The CSV reader itself, without a stream around it: bytes in (`write`, then `end`), records out through
 * `onRecord`, in order, each before the call that read it resolves.
 */
export class CsvRecordReader {
  readonly #push: (record: TextRecord) => void;
  readonly #recordDelimiter: string | undefined;
  #parser: RecordParser;
  /** Where the current csv-parse started. */
  #start: Position = { line: 0, byte: 0 };
  /** Where the last whole record (the header included) ended (two numbers, not a Position: set per record). */
  #endLine = 0;
  #endByte = 0;
  /** csv-parse's count of lines and of blank lines skipped there. */
  #endLines = 0;
  #endEmpty = 0;
  /** Bytes from `#keptFrom` on, fed to csv-parse since the last whole record: where a restart reads from. */
  #kept: Buffer[] = [];
  #keptFrom = 0;
  #header: readonly string[] | undefined;
  /** A quote error whose line has not ended yet: the rest of the line is still to come. */
  #waiting: ParseError | undefined;

  constructor(onRecord: (record: TextRecord) => void, resume?: CsvResume) {
    this.#push = onRecord;
    this.#recordDelimiter = resume?.recordDelimiter;
    this.#header = resume?.header;
    this.#endLine = resume?.line ?? 0;
    this.#start = { line: this.#endLine, byte: 0 };
    this.#parser = this.#newParser();
  }

  #newParser(): RecordParser {
    this.#endLines = 0;
    this.#endEmpty = 0;
    const parser = new RecordParser((values) => this.#onRecord(values), this.#recordDelimiter);
    // Its errors are taken from the write and end callbacks (#parse); an unheard 'error' event would crash.
    parser.on('error', () => undefined);
    return parser;
  }

  #onRecord(values: string[]): void {
    // csv-parse's own `lines` counts a CRLF inside a quoted field as two lines, so lines are counted here: a
    // record starts right after the previous one ended, plus any blank lines skipped (`empty_lines`) between.
    const info = this.#parser.info;
    const line = this.#endLine + (info.empty_lines - this.#endEmpty) + 1;
    // Line breaks inside fields (CRLF counts once), and the first field decoded with U+FFFD, if any.
    let breaks = 0;
    let invalid = -1;
    for (let f = 0; f < values.length; f++) {
      const value = values[f] as string;
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > CR && c !== 0xfffd) continue;
        if (c === LF || (c === CR && value.charCodeAt(i + 1) !== LF)) breaks++;
        else if (c === 0xfffd && invalid < 0) invalid = f;
      }
    }
    this.#endLine = line + breaks;
    this.#endEmpty = info.empty_lines;
    this.#endByte = this.#start.byte + info.bytes;
    this.#endLines = info.lines;
    if (this.#header === undefined) this.#header = values;
    else if (invalid >= 0) {
      this.#push({
        line,
        values,
        error: `not valid UTF-8: ${this.#field(invalid)} holds bytes that decode as U+FFFD`,
      } satisfies TextRecord);
      return;
    }
    this.#push({ line, values } satisfies TextRecord);
  }

  /** "field 3 (date)": 1-based, with the header's name. */
  #field(index: number): string {
    const name = this.#header?.[index];
    return `field ${index + 1}${name === undefined ? '' : ` (${name})`}`;
  }

  /** Reads a chunk; rejects with BI_ERR_CSV_PARSE when the input cannot be read as CSV at all. */
  write(chunk: Buffer): Promise<void> {
    this.#kept.push(chunk);
    return this.#run(chunk, false);
  }

  /** Reads to the end of the input. */
  end(): Promise<void> {
    return this.#run(undefined, true);
  }

  async #run(chunk: Buffer | undefined, end: boolean): Promise<void> {
    // Waiting for the end of a bad line: only a chunk with a line break (or the end) can bring it.
    if (this.#waiting !== undefined && chunk !== undefined && !chunk.includes(LF) && !chunk.includes(CR))
      return;
    let error = this.#waiting ?? (await this.#parse(chunk, end));
    while (error !== undefined) {
      if (this.#header === undefined || !QUOTE_ERRORS.has(String(error.code)))
        throw new BatchInferError(ErrorCodes.CSV_PARSE, `Input is not valid CSV: ${error.message}`, {
          cause: error,
        });
      const bad = this.#badLine(end);
      this.#waiting = bad === undefined ? error : undefined;
      if (bad === undefined) return;
      this.#push({
        line: bad.line,
        values: [bad.text],
        error: this.#quoteReason(error, bad.line),
      } satisfies TextRecord);
      this.#start = { line: bad.line, byte: bad.next };
      this.#endLine = bad.line;
      this.#endByte = bad.next;
      this.#parser = this.#newParser();
      error = await this.#parse(this.#bytesFrom(bad.next), end);
    }
    this.#drop(this.#endByte);
  }

  /** Feeds bytes to csv-parse (and ends it at the end of the input); resolves with its error, if any. */
  #parse(bytes: Buffer | undefined, end: boolean): Promise<ParseError | undefined> {
    const parser = this.#parser;
    return new Promise((resolve) => {
      const written = (err?: Error | null): void => {
        if (err !== undefined && err !== null) resolve(err);
        else if (!end) resolve(undefined);
        else {
          parser.once('error', (e) => resolve(e));
          parser.once('finish', () => resolve(undefined));
          parser.end();
        }
      };
      if (bytes === undefined || bytes.length === 0) written();
      else parser.write(bytes, written);
    });
  }

  /** Drops the kept bytes before `offset` (absolute). */
  #drop(offset: number): void {
    let skip = offset - this.#keptFrom;
    while (this.#kept.length > 0 && skip >= (this.#kept[0] as Buffer).length) {
      const first = this.#kept.shift() as Buffer;
      skip -= first.length;
      this.#keptFrom += first.length;
    }
    if (skip > 0 && this.#kept.length > 0) {
      this.#kept[0] = (this.#kept[0] as Buffer).subarray(skip);
      this.#keptFrom += skip;
    }
  }

  /** The kept bytes from `offset` (absolute) on, the ones before it dropped. */
  #bytesFrom(offset: number): Buffer {
    this.#drop(offset);
    return this.#kept.length === 1 ? (this.#kept[0] as Buffer) : Buffer.concat(this.#kept);
  }

  /**
   * The failed record's first line: past the blank lines after the last whole record, up to its line break.
   * Undefined while that line has not ended in the bytes received so far.
   */
  #badLine(end: boolean): { line: number; text: string; next: number } | undefined {
    const bytes = this.#bytesFrom(this.#endByte);
    /** Length of the line break at `i` (CRLF is 2), 0 for none, -1 for a CR that may be the start of a CRLF. */
    const breakAt = (i: number): number => {
      if (bytes[i] === LF) return 1;
      if (bytes[i] !== CR) return 0;
      if (bytes[i + 1] === LF) return 2;
      return i + 1 < bytes.length || end ? 1 : -1;
    };
    let at = 0;
    let blank = 0;
    for (let n = breakAt(at); n !== 0; n = breakAt(at)) {
      if (n < 0) return undefined;
      at += n;
      blank++;
    }
    let stop = at;
    while (stop < bytes.length && bytes[stop] !== LF && bytes[stop] !== CR) stop++;
    const after = breakAt(stop);
    if (after < 0 || (stop === bytes.length && !end)) return undefined;
    return {
      line: this.#endLine + blank + 1,
      text: bytes.subarray(at, stop).toString('utf8'),
      next: this.#keptFrom + stop + after,
    };
  }

  #quoteReason(error: ParseError, line: number): string {
    const field = this.#field(Number(error.column));
    const what =
      error.code === 'INVALID_OPENING_QUOTE'
        ? `a quote inside unquoted ${field}`
        : error.code === 'CSV_INVALID_CLOSING_QUOTE'
          ? `text after the closing quote of ${field}`
          : `the quote of ${field} is never closed`;
    // csv-parse reports an unclosed quote at the end of the input, the others where they are. Its line count
    // is taken relative to the last whole record's: it counts a CRLF inside quotes twice.
    const brokenOn = this.#endLine + Number(error.lines) - this.#endLines;
    return error.code !== 'CSV_QUOTE_NOT_CLOSED' && brokenOn > line
      ? `malformed CSV: the record starting on this line breaks on line ${brokenOn}: ${what}`
      : `malformed CSV: ${what}`;
  }
}

/** A Transform from CSV bytes to {@link TextRecord}s: the header record first, then one per row. */
export function createCsvParser(): Transform {
  const stream: Transform = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, callback) {
      reader.write(chunk).then(() => callback(), callback);
    },
    flush(callback) {
      reader.end().then(() => callback(), callback);
    },
  });
  const reader = new CsvRecordReader((record) => stream.push(record));
  return stream;
}
