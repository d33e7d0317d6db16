/**
 * Rows as `COPY … FROM STDIN` data, in one of COPY's two formats:
 *
 * - binary, when every column of the target has exactly the type its output column maps to (a table the sink
 *   created, or one made the same way): each value as PostgreSQL stores it, with no number written as text and
 *   parsed back (that was a sixth of a PostgreSQL → PostgreSQL run). A cell that does not fit its column fails
 *   with the column's name, since PostgreSQL cannot parse it for us;
 * - text otherwise (an existing table of other types: a string into a `date`, an int32 into a `bigint`):
 *   PostgreSQL parses each value for its column and names any it refuses.
 */
import { cellText } from '../core/cell-text.js';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { Cell, Column, ColumnType } from './table.js';

/** The column type (pg_type.typname) each output type is created as, and the only one binary COPY writes into. */
export const BINARY_TYPNAMES: Readonly<Record<ColumnType, string>> = {
  string: 'text',
  boolean: 'bool',
  int32: 'int4',
  int64: 'int8',
  float32: 'float4',
  float64: 'float8',
};

/** An encoder of batches of rows, and of what ends the data (after the last batch, before the COPY ends). */
export interface CopyEncoder {
  /** The SQL option of the COPY statement: `(FORMAT binary)`, or nothing for text. */
  option: string;
  encode(rows: readonly (readonly Cell[])[]): Buffer | string;
  end(): Buffer | undefined;
}

/**
 * The encoder for `columns` written into a target whose columns (by output column) have `typnames`: binary
 * when each is the one {@link BINARY_TYPNAMES} names, text otherwise. `target` names the output in errors.
 */
export function copyEncoder(
  columns: readonly Column[],
  typnames: readonly (string | undefined)[],
  target: string,
): CopyEncoder {
  const binary = columns.every((column, c) => typnames[c] === BINARY_TYPNAMES[column.type]);
  if (!binary) return { option: '', encode: copyText, end: () => undefined };
  const encoder = new BinaryRows(columns, target);
  return {
    option: ' (FORMAT binary)',
    encode: (rows) => encoder.encode(rows),
    end: () => encoder.end(),
  };
}

/** Rows in COPY's text format: tab-separated, `\N` for NULL, backslash escapes for what would break a line. */
function copyText(rows: readonly (readonly Cell[])[]): string {
  let text = '';
  for (const row of rows) text += `${row.map(textCell).join('\t')}\n`;
  return text;
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function textCell(cell: Cell): string {
  if (cell === null) return '\\N';
  if (typeof cell === 'string') return cell.replace(/[\\\t\n\r]/g, (char) => ESCAPES[char] ?? char);
  // Numbers as a CSV holds them (NaN and ±Infinity are PostgreSQL's spellings too); bigint exactly.
  return cellText(cell);
}

/** The binary format's header: signature, flags (no OIDs), no header extension. */
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

const TWO_32 = 2 ** 32;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** A growing buffer that batches are encoded into (reused: each batch's bytes are copied out). */
class Bytes {
  buffer = Buffer.allocUnsafe(1 << 16);
  at = 0;

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.at + n <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + n));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

/** Strings up to this length are tried as ASCII first. */
const SHORT = 32;

/** Writes a non-null cell as its field (length, then value); false when the cell does not fit the type. */
type FieldWriter = (out: Bytes, cell: Exclude<Cell, null>) => boolean;

const FIELDS: Readonly<Record<ColumnType, FieldWriter>> = {
  string(out, cell) {
    // A number or a boolean in a string column (a label) is written as its text, as in the text format.
    const text = typeof cell === 'string' ? cell : String(cell);
    const length = text.length;
    out.ensure(4 + 3 * length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const { buffer } = out;
    const start = out.at + 4;
    let n = 0;
    // A short ASCII string (a label, a date) byte by byte: cheaper than a call into the UTF-8 encoder.
    if (length <= SHORT)
      for (let code; n < length && (code = text.charCodeAt(n)) < 0x80; n++) buffer[start + n] = code;
    if (n < length) n = buffer.write(text, start, 'utf8');
    buffer.writeInt32BE(n, out.at);
    out.at = start + n;
    return true;
  },
  boolean(out, cell) {
    if (typeof cell !== 'boolean') return false;
    out.ensure(5);
    out.buffer.writeInt32BE(1, out.at);
    out.buffer[out.at + 4] = cell ? 1 : 0;
    out.at += 5;
    return true;
  },
  int32(out, cell) {
    if (typeof cell !== 'number' || (cell | 0) !== cell) return false;
    out.ensure(8);
    out.buffer.writeInt32BE(4, out.at);
    out.buffer.writeInt32BE(cell, out.at + 4);
    out.at += 8;
    return true;
  },
  int64(out, cell) {
    out.ensure(12);
    if (typeof cell === 'number') {
      if (!Number.isSafeInteger(cell)) return false;
      // High and low words, without a BigInt per value.
      const high = Math.floor(cell / TWO_32);
      out.buffer.writeInt32BE(8, out.at);
      out.buffer.writeInt32BE(high, out.at + 4);
      out.buffer.writeUInt32BE(cell - high * TWO_32, out.at + 8);
    } else if (typeof cell === 'bigint' && cell >= INT64_MIN && cell <= INT64_MAX) {
      out.buffer.writeInt32BE(8, out.at);
      out.buffer.writeBigInt64BE(cell, out.at + 4);
    } else return false;
    out.at += 12;
    return true;
  },
  float32(out, cell) {
    if (typeof cell !== 'number') return false;
    out.ensure(8);
    out.buffer.writeInt32BE(4, out.at);
    out.buffer.writeFloatBE(cell, out.at + 4);
    out.at += 8;
    return true;
  },
  float64(out, cell) {
    if (typeof cell !== 'number') return false;
    out.ensure(12);
    out.buffer.writeInt32BE(8, out.at);
    out.buffer.writeDoubleBE(cell, out.at + 4);
    out.at += 12;
    return true;
  },
};

/** Batches of rows as binary COPY tuples; the first batch starts with the header. */
class BinaryRows {
  readonly #columns: readonly Column[];
  readonly #fields: readonly FieldWriter[];
  readonly #target: string;
  readonly #out = new Bytes();
  #started = false;

  constructor(columns: readonly Column[], target: string) {
    this.#columns = columns;
    this.#fields = columns.map((column) => FIELDS[column.type]);
    this.#target = target;
  }

  encode(rows: readonly (readonly Cell[])[]): Buffer {
    const out = this.#start();
    const fields = this.#fields;
    for (const row of rows) {
      out.ensure(2);
      out.buffer.writeInt16BE(fields.length, out.at);
      out.at += 2;
      for (let c = 0; c < fields.length; c++) {
        const cell = row[c] ?? null;
        if (cell === null) {
          out.ensure(4);
          out.buffer.writeInt32BE(-1, out.at);
          out.at += 4;
        } else if (!(fields[c] as FieldWriter)(out, cell)) throw this.#misfit(c, cell);
      }
    }
    return Buffer.from(out.buffer.subarray(0, out.at));
  }

  /** The trailer, after the header when no row came. */
  end(): Buffer {
    const out = this.#start();
    out.ensure(2);
    out.buffer.writeInt16BE(-1, out.at);
    out.at += 2;
    return Buffer.from(out.buffer.subarray(0, out.at));
  }

  /** The buffer emptied, with the header when nothing was written yet. */
  #start(): Bytes {
    const out = this.#out;
    out.at = 0;
    if (!this.#started) {
      out.ensure(HEADER.length);
      out.at += HEADER.copy(out.buffer, 0);
      this.#started = true;
    }
    return out;
  }

  #misfit(c: number, cell: Exclude<Cell, null>): BatchInferError {
    const column = this.#columns[c] as Column;
    const shown = typeof cell === 'bigint' ? `${cell}n` : show(cell);
    return new BatchInferError(
      ErrorCodes.OUTPUT_WRITE,
      `Cannot write ${this.#target}: column ${show(column.name)} is ${column.type}, a cell is ${shown}`,
      { context: { column: column.name } },
    );
  }
}
