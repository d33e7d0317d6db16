/**
 * One CSV cell → one tensor element, parsed for the input's datatype (DESIGN.md, "Column → input mapping"):
 *
 * - floats (FP16, FP32, FP64): a decimal literal; an empty cell (or `NaN`) is NaN, which skl2onnx pipelines
 *   impute; anything else, a value the type cannot hold or a missing cell (a record without the column) is
 *   refused;
 * - integers: an integral decimal within the type's range (`3`, `-2`, `3.0`); an empty cell is refused;
 * - BOOL: `true`/`false`/`1`/`0`, any case; an empty cell is refused;
 * - BYTES: the text as it is (empty included; a record without the column is refused).
 *
 * A typed source's cell (Parquet, PostgreSQL: lib/io/table.ts) is taken as it is, without a round trip through
 * text: a number or a bigint for a numeric input (an integer input refuses a fraction, any input a value out of
 * its range), a boolean for BOOL (or 0/1), a string for BYTES. A null is what an empty CSV cell is: NaN for a
 * float, refused for an integer or a boolean, `""` for BYTES, so a run on a table and on its CSV export agree.
 *
 * A writer returns the raw numeric value (for data-quality and drift profiles; NaN for strings and missing
 * values) or, for a refused cell, the reason as a string.
 */
import { datatypeInfo, type NumericDatatype } from './datatypes.js';
import { toHalfBits } from './fp16.js';
import type { Cell } from '../io/table.js';
import { cellText } from './cell-text.js';
import type { Datatype } from './model-contract.js';
import { decimalValue, parseDecimal } from './parse.js';
import type { TensorData } from './tensor.js';

export type CellWriter = (cell: Cell | undefined, data: TensorData, at: number) => number | string;

/** The text as a reason shows it: JSON-quoted, at most 40 characters of it. */
function quote(text: string): string {
  return text.length <= 40 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 40))}…`;
}

const INTEGER = /^[+-]?\d+$/;

const RANGES: Record<string, readonly [bigint, bigint]> = {
  UINT8: [0n, 2n ** 8n],
  UINT16: [0n, 2n ** 16n],
  UINT32: [0n, 2n ** 32n],
  UINT64: [0n, 2n ** 64n],
  INT8: [-(2n ** 7n), 2n ** 7n],
  INT16: [-(2n ** 15n), 2n ** 15n],
  INT32: [-(2n ** 31n), 2n ** 31n],
  INT64: [-(2n ** 63n), 2n ** 63n],
};

/** A float cell's value: NaN for an empty cell or `NaN`, or the reason it is refused. */
function floatValue(text: string | undefined): number | string {
  const value = decimalValue(text);
  if (!Number.isNaN(value)) return value;
  if (text === undefined) return 'missing value';
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'nan') return Number.NaN;
  const parsed = parseDecimal(text);
  return parsed.ok ? parsed.value : parsed.reason;
}

/** A typed cell's number (a bigint or boolean too), NaN for null, or undefined for a text cell. */
function typedNumber(cell: Cell | undefined): number | undefined {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'bigint') return Number(cell);
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  return cell === null ? Number.NaN : undefined;
}

function floatWriter(datatype: 'FP16' | 'FP32' | 'FP64'): CellWriter {
  return (cell, data, at) => {
    const typed = typedNumber(cell);
    const text = typeof cell === 'string' ? cell : undefined;
    const value = typed ?? floatValue(text);
    if (typeof value === 'string') return value;
    if (datatype === 'FP64') (data as Float64Array)[at] = value;
    else {
      const stored = datatype === 'FP32' ? Math.fround(value) : toHalfBits(value);
      if (
        Number.isFinite(value) &&
        (datatype === 'FP32' ? !Number.isFinite(stored) : (stored & 0x7c00) === 0x7c00)
      )
        return `number out of ${datatype} range: ${quote(text ?? cellText(cell))}`;
      (data as Float32Array)[at] = stored;
    }
    return value;
  };
}

function integerWriter(datatype: NumericDatatype): CellWriter {
  const [low, end] = RANGES[datatype] as readonly [bigint, bigint];
  const big = datatypeInfo(datatype).bigint;
  return (cell, data, at) => {
    if (cell === null) return 'empty value';
    const text = cell === undefined || typeof cell === 'string' ? cell : cellText(cell);
    const trimmed = (text ?? '').trim();
    if (trimmed === '') return text === undefined ? 'missing value' : 'empty value';
    let value: bigint;
    if (typeof cell === 'bigint') value = cell;
    else if (typeof cell === 'boolean') return `not an integer: ${cell}`;
    else if (typeof cell === 'number' && Number.isSafeInteger(cell)) value = BigInt(cell);
    else if (INTEGER.test(trimmed)) value = BigInt(trimmed);
    else {
      // `3.0` or `1e3`, as a data frame with a missing value writes an integer column.
      const n = decimalValue(trimmed);
      if (!Number.isSafeInteger(n)) return `not an integer: ${quote(text ?? '')}`;
      value = BigInt(n);
    }
    if (value < low || value >= end) return `integer out of ${datatype} range: ${quote(text ?? '')}`;
    if (big) (data as BigInt64Array)[at] = value;
    else (data as Int32Array)[at] = Number(value);
    return Number(value);
  };
}

const BOOLEANS: Record<string, number> = { true: 1, false: 0, '1': 1, '0': 0 };

const boolWriter: CellWriter = (cell, data, at) => {
  if (typeof cell === 'boolean') {
    (data as Uint8Array)[at] = cell ? 1 : 0;
    return cell ? 1 : 0;
  }
  if (cell === null) return 'empty value';
  const text = cell === undefined || typeof cell === 'string' ? cell : cellText(cell);
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return text === undefined ? 'missing value' : 'empty value';
  const value = BOOLEANS[trimmed.toLowerCase()];
  if (value === undefined) return `not a boolean (true, false, 1 or 0): ${quote(text ?? '')}`;
  (data as Uint8Array)[at] = value;
  return value;
};

const stringWriter: CellWriter = (cell, data, at) => {
  if (cell === undefined) return 'missing value';
  (data as string[])[at] = cellText(cell);
  return Number.NaN;
};

/** The cell writer of a datatype. */
export function cellWriter(datatype: Datatype): CellWriter {
  switch (datatype) {
    case 'BYTES':
      return stringWriter;
    case 'BOOL':
      return boolWriter;
    case 'FP16':
    case 'FP32':
    case 'FP64':
      return floatWriter(datatype);
    default:
      return integerWriter(datatype);
  }
}
