/**
 * CSV input: csv-parse configured for real-world files (BOM, CRLF or LF, quoted fields with commas and
 * newlines, blank lines skipped). Records come out as `{ line, values }` with the 1-based line the record
 * starts on, so a reject can be found in the source. Rows with the wrong number of fields are not a parse
 * error: the Preprocessor rejects them with a reason.
 */
import { parse, type Options, type Parser } from 'csv-parse';
import type { SourceRecord } from '../types.js';

/** Line breaks inside a record's fields (CRLF counts once), i.e. how many lines past its first it ends on. */
function breaksIn(values: readonly string[]): number {
  let n = 0;
  for (const value of values) {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 10 || (c === 13 && value.charCodeAt(i + 1) !== 10)) n++;
    }
  }
  return n;
}

export function createCsvParser(): Parser {
  // csv-parse's own `lines` counts a CRLF inside a quoted field as two lines, so lines are counted here: a
  // record starts right after the previous one ended, plus any blank lines skipped (`empty_lines`) between.
  let previousEnd = 0;
  let previousEmpty = 0;
  const options: Options<SourceRecord, string[]> = {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    on_record: (values, context) => {
      const line = previousEnd + (context.empty_lines - previousEmpty) + 1;
      previousEnd = line + breaksIn(values);
      previousEmpty = context.empty_lines;
      return { line, values };
    },
  };
  // csv-parse types `on_record` only on its `columns` overloads; the plain overload takes the same options.
  return parse(options as unknown as Options);
}
