/**
 * A PostgreSQL query or table as a record source (issue #17). Rows come through a server-side cursor
 * (pg-cursor: a portal read `fetchRows` rows at a time, the next fetch only when the stream is read again), so
 * memory holds one fetch whatever the table's size, and the whole read sees one snapshot.
 *
 * Cells keep their types where the model can use them (lib/io/table.ts): integers up to int4 as numbers, int8
 * as bigint, floats as numbers, booleans; numeric stays its exact text; dates and timestamps are ISO 8601 text
 * (`2024-01-02`, `2024-01-02T03:04:05.5`, `2024-01-02T03:04:05.5+01:00`, in the session's time zone); json,
 * arrays and every other type are PostgreSQL's text for them; NULL is null.
 *
 * `shard` keeps the rows whose key hashes to shard `index` of `count`: every row in exactly one shard, rows
 * with a NULL key in one shard together. Each shard still runs the whole query and filters it: splitting by
 * a hash needs no ordering and no count, which a split by ranges of row numbers would.
 */
import { Readable, addAbortSignal } from 'node:stream';
import Cursor from 'pg-cursor';
import pg from 'pg';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { connectPostgres, postgresError, quoteTable } from './postgres-connect.js';
import { checkPostgresUrl, redactUrl } from './postgres-url.js';
import type { Cell, Column, ColumnType, RecordSource, SourceRecord } from './table.js';

export interface PostgresSourceOptions {
  /** The SQL whose rows are read, e.g. `SELECT * FROM visits WHERE day = '2024-05-01'`. Exactly one of `query` and `table`. */
  query?: string;
  /** A table (or view) read whole: `name` or `schema.name`, case-sensitive as written. */
  table?: string;
  /** Read only the rows whose `by` column hashes to shard `index` (0-based) of `count`. */
  shard?: { index: number; count: number; by: string };
  /**
   * Rows fetched from the cursor at a time.
   * @default 2000
   */
  fetchRows?: number;
}

const DEFAULT_FETCH_ROWS = 2000;

/** How a PostgreSQL type (by OID, pg_type.oid) reaches a record, and the column type sinks write it as. */
interface TypeMapping {
  type: ColumnType;
  parse: (text: string) => Cell;
}

const TEXT: TypeMapping = { type: 'string', parse: (text) => text };

const TYPES: ReadonlyMap<number, TypeMapping> = new Map<number, TypeMapping>([
  [16, { type: 'boolean', parse: (text) => text === 't' }], // bool
  [20, { type: 'int64', parse: (text) => BigInt(text) }], // int8
  [21, { type: 'int32', parse: Number }], // int2
  [23, { type: 'int32', parse: Number }], // int4
  [700, { type: 'float32', parse: Number }], // float4 ('NaN', 'Infinity' read as such)
  [701, { type: 'float64', parse: Number }], // float8
  [1114, { type: 'string', parse: isoTimestamp }], // timestamp
  [1184, { type: 'string', parse: isoTimestamp }], // timestamptz
]);

/** PostgreSQL's ISO DateStyle output with ISO 8601's `T`, and an hours-only offset written `+hh:00`. */
function isoTimestamp(text: string): string {
  const match = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::\d\d)?)?$/.exec(text);
  if (match === null) return text; // infinity, -infinity, BC dates, offsets in seconds: as PostgreSQL writes them
  const [, date, time, offset = ''] = match;
  return `${date}T${time}${offset.length === 3 ? `${offset}:00` : offset}`;
}

const PARSERS: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number) => (TYPES.get(oid) ?? TEXT).parse) as pg.CustomTypesConfig['getTypeParser'],
};

/** Reads the rows of a query or a table from the database at `url`. */
export function postgresSource(url: string, options: PostgresSourceOptions): RecordSource {
  checkPostgresUrl(url);
  const sql = sourceSql(options);
  const fetchRows = options.fetchRows ?? DEFAULT_FETCH_ROWS;
  if (!Number.isInteger(fetchRows) || fetchRows < 1)
    throw invalid('fetchRows', `expected an integer ≥ 1, got ${show(fetchRows)}`);
  const name = options.table === undefined ? redactUrl(url) : `${redactUrl(url)}#${options.table}`;
  return {
    name,
    // Without an ORDER BY on a unique key, PostgreSQL may return rows in another order each time (a
    // synchronized scan starts mid-table), and the rows themselves may have changed: --resume cannot skip.
    repeatable: false,
    // Not counted: an exact count is a second full scan, and the planner's estimate is not a count.
    size: () => Promise.resolve({}),
    open(openOptions = {}) {
      const stream = new PostgresRecordStream(url, sql, fetchRows, name);
      return openOptions.signal === undefined ? stream : addAbortSignal(openOptions.signal, stream);
    },
  };
}

/** The SQL the cursor runs: the query or the table, filtered to the shard. */
function sourceSql(options: PostgresSourceOptions): string {
  const { query, table, shard } = options;
  if ((query === undefined) === (table === undefined))
    throw invalid('query', 'give exactly one of `query` and `table`');
  // A trailing `;` is harmless alone, but not inside the shard's subquery.
  const base =
    query === undefined ? `SELECT * FROM ${quoteTable(table ?? '')}` : query.replace(/[\s;]+$/, '');
  if (base === '') throw invalid('query', 'the query is empty');
  if (shard === undefined) return base;
  const { index, count, by } = shard;
  if (!Number.isInteger(count) || count < 1)
    throw invalid('shard', `expected a count ≥ 1, got ${show(count)}`);
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw invalid('shard', `expected an index from 0 to ${count - 1}, got ${show(index)}`);
  if (by === '') throw invalid('shard', 'the shard key column is empty');
  // hashtext() gives an int4 for any value's text; shifted into 0 … 2^32 - 1 it splits evenly under mod (abs()
  // would fold +h and -h together). The newline ends a `--` comment the query may end with.
  const key = `coalesce(hashtext(batch_infer_shard.${pg.escapeIdentifier(by)}::text), 0)::bigint + 2147483648`;
  return `SELECT * FROM (${base}\n) AS batch_infer_shard WHERE mod(${key}, ${count}) = ${index}`;
}

function invalid(option: string, message: string): BatchInferError {
  return new BatchInferError(ErrorCodes.INVALID_OPTION, `Invalid option \`${option}\`: ${message}`, {
    context: { option },
  });
}

/**
 * The records: connect and open the cursor on construction, one fetch per `_read`, the header with the first
 * fetch (the result's fields are known then, with no rows too). Ending the client ends the cursor with it:
 * the server drops a connection's portals and transaction when it closes.
 */
class PostgresRecordStream extends Readable {
  readonly #url: string;
  readonly #sql: string;
  readonly #fetchRows: number;
  readonly #name: string;
  #client: pg.Client | undefined;
  #cursor: Cursor<Cell[]> | undefined;
  #headerSent = false;
  #row = 0;
  #reading = false;

  constructor(url: string, sql: string, fetchRows: number, name: string) {
    // One fetch may be pushed at once; the next one waits until the buffer is read below one fetch.
    super({ objectMode: true, highWaterMark: fetchRows });
    this.#url = url;
    this.#sql = sql;
    this.#fetchRows = fetchRows;
    this.#name = name;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    this.#open().then(() => callback(), callback);
  }

  async #open(): Promise<void> {
    this.#client = await connectPostgres(this.#url, (err) => this.destroy(err));
    try {
      // Dates and timestamps as ISO text whatever the server's DateStyle; the day/month order that reads
      // dates in the query stays the server's.
      await this.#client.query("SET DateStyle = 'ISO'");
    } catch (err) {
      throw postgresError(err, ErrorCodes.QUERY, `PostgreSQL ${this.#name}`);
    }
    this.#cursor = this.#client.query(
      new Cursor<Cell[]>(this.#sql, [], { rowMode: 'array', types: PARSERS }),
    );
  }

  override _read(): void {
    const cursor = this.#cursor;
    if (this.#reading || cursor === undefined) return;
    this.#reading = true;
    cursor.read(this.#fetchRows, (err, rows, result) => {
      this.#reading = false;
      if (this.destroyed) return;
      // pg-cursor passes null, not undefined as its type says, when there is no error.
      const error: unknown = err;
      if (error !== undefined && error !== null) {
        this.destroy(postgresError(error, ErrorCodes.QUERY, `PostgreSQL refused the query of ${this.#name}`));
        return;
      }
      if (!this.#headerSent && !this.#pushHeader(result.fields)) return;
      for (const values of rows) this.push({ line: ++this.#row, values } satisfies SourceRecord);
      if (rows.length === 0) this.push(null);
    });
  }

  /** The header record; false (and the stream destroyed) for a statement that returns no rows at all. */
  #pushHeader(fields: readonly pg.FieldDef[]): boolean {
    if (fields.length === 0) {
      this.destroy(
        new BatchInferError(
          ErrorCodes.QUERY,
          `The query of ${this.#name} returns no columns: it is not a SELECT`,
        ),
      );
      return false;
    }
    const columns: Column[] = fields.map((field) => ({
      name: field.name,
      type: (TYPES.get(field.dataTypeID) ?? TEXT).type,
    }));
    this.#headerSent = true;
    this.push({ line: 0, values: columns.map((column) => column.name), columns } satisfies SourceRecord);
    return true;
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) callback(err);
    else
      client.end().then(
        () => callback(err),
        () => callback(err),
      );
  }
}
