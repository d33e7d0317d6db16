/**
 * Rejects into a table (`--rejects 'postgres://…#table'`): the input's columns with their source types, then
 * `file` (several inputs), `line` and `error`, written in batches to a typed sink that commits with the run's
 * output. A row shorter than the header is padded with nulls; a longer one (a CSV line with extra fields) keeps
 * the header's width and its extra fields are named in `error`, so nothing of the input is lost.
 */
import type { RejectedRow } from '../types.js';
import type { Cell, Column, RecordSink } from './table.js';

/** Rows gathered before a batch goes to the sink: rejects are few, and a COPY per row would be slow. */
const BATCH_ROWS = 256;

export interface TableRejects {
  write(row: RejectedRow): void;
  end(): Promise<void>;
}

export function tableRejectsWriter(
  sink: RecordSink,
  inputColumns: () => readonly Column[] | undefined,
  withFile: boolean,
): TableRejects {
  let failure: Error | undefined;
  sink.stream.on('error', (err) => (failure ??= err));
  let columns: readonly Column[] | undefined;
  let rows: Cell[][] = [];
  const columnsNow = (): readonly Column[] => {
    columns ??= [
      // Nullable, whatever the source says: a short row is padded with nulls.
      ...(inputColumns() ?? []).map(({ name, type }) => ({ name, type })),
      ...(withFile ? [{ name: 'file', type: 'string' as const }] : []),
      { name: 'line', type: 'int64' },
      { name: 'error', type: 'string' },
    ];
    return columns;
  };
  const flush = (): void => {
    sink.stream.write({ columns: columnsNow(), rows });
    rows = [];
  };
  return {
    write(row) {
      if (failure !== undefined) return;
      const width = inputColumns()?.length ?? 0;
      const values: Cell[] = row.values.slice(0, width);
      while (values.length < width) values.push(null);
      const extra = row.values.slice(width);
      const error =
        extra.length === 0 ? row.error : `${row.error} (extra fields: ${JSON.stringify(extra.map(String))})`;
      rows.push([...values, ...(withFile ? [row.file ?? null] : []), BigInt(row.line), error]);
      if (rows.length >= BATCH_ROWS) flush();
    },
    async end() {
      // An empty batch still tells the sink the columns: the table exists, with no rows, after a clean run.
      if (failure === undefined) flush();
      sink.stream.end();
      await new Promise<void>((resolve) => sink.stream.once('finish', resolve).once('close', resolve));
      if (failure !== undefined) throw failure;
    },
  };
}
