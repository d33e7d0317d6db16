/**
 * `text/csv` bodies of SageMaker `/invocations`: rows of raw input columns (DESIGN.md contracts). A first line
 * naming any of the model's columns is a header, and columns are then found by name (others are ignored);
 * without one, every row holds exactly the columns the model's input plan reads, in first-use order
 * (lib/core/input-plan.ts). Parsed with the batch pipeline's own CSV reader, so quoting, BOM and CRLF behave the same.
 */
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import type { InputPlan } from '../../lib/core/input-plan.js';
import { createCsvParser } from '../../lib/io/csv-source.js';
import type { TextRecord } from '../../lib/io/table.js';
import { badInstance, type Instance } from '../records.js';

async function readRecords(body: Buffer): Promise<TextRecord[]> {
  const parser = createCsvParser();
  parser.end(body);
  const records: TextRecord[] = [];
  try {
    for await (const record of parser) records.push(record as TextRecord);
  } catch (err) {
    throw new BatchInferError(
      ErrorCodes.BAD_REQUEST,
      `The CSV body cannot be parsed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return records;
}

export async function csvRows(body: Buffer, plan: InputPlan): Promise<Instance[]> {
  const records = await readRecords(body);
  const required = plan.columns;
  const first = records[0];
  const hasHeader = first !== undefined && first.values.some((v) => required.includes(v.trim()));
  const columns = hasHeader ? first.values.map((v) => v.trim()) : required;
  if (hasHeader) {
    const missing = required.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new BatchInferError(
        ErrorCodes.BAD_REQUEST,
        `The CSV header lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((c) => show(c)).join(', ')}`,
      );
    }
  }
  const rows = hasHeader ? records.slice(1) : records;
  return rows.map((row, i) => {
    const where = `Row ${i + 1} (line ${row.line})`;
    if (row.error !== undefined) badInstance(where, row.error);
    if (row.values.length !== columns.length) {
      badInstance(
        where,
        hasHeader
          ? `has ${row.values.length} values, the header has ${columns.length}`
          : `has ${row.values.length} values, expected ${columns.length} (${columns.join(',')}) or a header line`,
      );
    }
    return { where, values: required.map((c) => row.values[columns.indexOf(c)]) };
  });
}
