/**
 * CSV input: csv-parse configured for real-world files (BOM, CRLF or LF, quoted fields with commas and
 * newlines, blank lines skipped). Records come out as `{ line, values }` with the 1-based line the record
 * starts on, so a reject can be found in the source. Rows with the wrong number of fields are not a parse
 * error: the Preprocessor rejects them with a reason.
 */
import { parse, type Options, type Parser } from 'csv-parse';
import type { SourceRecord } from '../types.js';

export function createCsvParser(): Parser {
  // csv-parse reports the line a record ends on; it starts right after the previous record's last line and
  // any blank lines skipped since, which `empty_lines` counts.
  let previousEnd = 0;
  let previousEmpty = 0;
  const options: Options<SourceRecord, string[]> = {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    on_record: (values, context) => {
      const line = previousEnd + (context.empty_lines - previousEmpty) + 1;
      previousEnd = context.lines;
      previousEmpty = context.empty_lines;
      return { line, values };
    },
  };
  // csv-parse types `on_record` only on its `columns` overloads; the plain overload takes the same options.
  return parse(options as unknown as Options);
}
