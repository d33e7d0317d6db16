/**
 * A cell as CSV text: what a typed source's value (Parquet, PostgreSQL) becomes in a CSV output or a rejects
 * file, and the text a text-only reader of it (the weather feature spec's transforms) parses. A null is an
 * empty cell, as a CSV export of the same data writes it; numbers are JavaScript's shortest round-trip text.
 */
import type { Cell } from '../io/table.js';

export function cellText(cell: Cell | undefined): string {
  if (typeof cell === 'string') return cell;
  if (cell === null || cell === undefined) return '';
  // String() drops the sign of -0, which a float column can hold.
  return Object.is(cell, -0) ? '-0' : String(cell);
}
