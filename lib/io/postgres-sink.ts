/**
 * A PostgreSQL table as the output of a run (issue #17). Everything happens in one transaction on one
 * connection, committed by `commit()` only: a failed run (`discard()`) or a killed one leaves the table as it
 * was, because PostgreSQL rolls back the transaction of a connection that closes without COMMIT.
 *
 * The first batch (it carries the columns, with no rows too) opens the transaction and prepares the table:
 * - no such table: CREATE TABLE with the output's typed columns (see columnDefinitions);
 * - `fail`: BI_ERR_TABLE_EXISTS;
 * - `append`: the table's columns must fit the output (see {@link columnsMismatch}), else BI_ERR_TABLE_COLUMNS;
 * - `replace`: the rows go into a new table next to it, which takes the old one's place at commit (DROP,
 *   RENAME, COMMIT). Readers see the old rows for the whole run and wait only for that swap; a DROP at the
 *   start would lock them out of the table until the commit, and TRUNCATE too. The new table is a new object:
 *   indexes, grants and owner of the old one do not carry over, and a view on it makes the DROP fail.
 *
 * Rows go through `COPY … FROM STDIN` (pg-copy-streams), one write per batch, waiting for the socket to drain,
 * so a slow database slows the run instead of filling memory: in binary format into a table of the types the
 * sink creates, in text format into other types (lib/io/postgres-copy.ts).
 *
 * Two sinks appending to one table (shards) each commit their own rows. When the table does not exist yet,
 * the first to create it wins and the others append once it commits: they wait for it at CREATE TABLE, so a
 * table created beforehand lets shards run side by side from the start.
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { randomBytes } from 'node:crypto';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { connectPostgres, postgresError, quoteTable } from './postgres-connect.js';
import { BINARY_TYPNAMES, copyEncoder, type CopyEncoder } from './postgres-copy.js';
import { checkPostgresUrl, redactUrl } from './postgres-url.js';
import type { Column, ColumnType, RecordSink, RowBatch } from './table.js';

/** What to do when the output table exists: refuse (`fail`), add the rows (`append`), or replace its rows (`replace`). */
export type IfExists = 'fail' | 'append' | 'replace';

export interface PostgresSinkOptions {
  /** The output table: `name` or `schema.name`, case-sensitive as written. */
  table: string;
  ifExists: IfExists;
}

/**
 * The column types (pg_type.typname) an existing table may have for each output type: those that take its
 * values without loss. A string fits any type: PostgreSQL reads the text, and refuses a value that does not
 * parse (BI_ERR_OUTPUT_WRITE), so a CSV run can append to a typed table.
 */
const FITS: Readonly<Record<Exclude<ColumnType, 'string'>, readonly string[]>> = {
  boolean: ['bool', 'text', 'varchar', 'bpchar'],
  int32: ['int4', 'int8', 'numeric', 'float8', 'text', 'varchar', 'bpchar'],
  int64: ['int8', 'numeric', 'text', 'varchar', 'bpchar'],
  float32: ['float4', 'float8', 'numeric', 'text', 'varchar', 'bpchar'],
  float64: ['float8', 'numeric', 'text', 'varchar', 'bpchar'],
};

/** Writes a run's rows into table `options.table` of the database at `url`. */
export function postgresSink(url: string, options: PostgresSinkOptions): RecordSink {
  const { table, ifExists } = options;
  // A malformed URL or table name is refused now, not at the first batch.
  checkPostgresUrl(url);
  quoteTable(table);
  if (!['fail', 'append', 'replace'].includes(ifExists))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`ifExists\`: expected "fail", "append" or "replace", got ${show(ifExists)}`,
      { context: { option: 'ifExists' } },
    );
  const stream = new PostgresRowWriter(url, table, ifExists, `${redactUrl(url)}#${table}`);
  return {
    kind: 'rows',
    name: stream.name,
    stream,
    commit: () => stream.commit(),
    discard: () => stream.close(),
  };
}

/** The transaction in progress: its connection, its COPY and how rows are encoded for it, and what commit must do. */
interface Session {
  client: pg.Client;
  copy: CopyStreamQuery;
  encoder: CopyEncoder;
  /** For `replace` of an existing table: the new table, the old one it replaces, and the name it takes. */
  swap?: { staging: string; drop: string; rename: string };
}

/** An existing table's column, as read from the catalog. */
interface TableColumn {
  name: string;
  /** As PostgreSQL writes it, e.g. `character varying(20)`. */
  type: string;
  /** pg_type.typname, e.g. `varchar`. */
  typname: string;
  /** A default, an identity or a generated column: the output may leave it out. */
  optional: boolean;
}

class PostgresRowWriter extends Writable {
  readonly name: string;
  readonly #url: string;
  readonly #table: string;
  readonly #ifExists: IfExists;
  #session: Promise<Session> | undefined;
  #closed: Promise<void> | undefined;

  constructor(url: string, table: string, ifExists: IfExists, name: string) {
    // A batch is many rows: a couple queued is enough to keep the COPY busy.
    super({ objectMode: true, highWaterMark: 2 });
    this.#url = url;
    this.#table = table;
    this.#ifExists = ifExists;
    this.name = name;
  }

  override _write(batch: RowBatch, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#write(batch).then(() => callback(), callback);
  }

  async #write(batch: RowBatch): Promise<void> {
    this.#session ??= this.#begin(batch.columns);
    const { copy, encoder } = await this.#session;
    if (batch.rows.length === 0) return;
    if (!copy.write(encoder.encode(batch.rows))) await once(copy, 'drain');
  }

  /** Ends the COPY; its `finish` comes once the server has taken every row. */
  override _final(callback: (err?: Error | null) => void): void {
    const session = this.#session;
    if (session === undefined) {
      callback();
      return;
    }
    session
      .then(async ({ copy, encoder }) => {
        copy.end(encoder.end());
        await finished(copy);
      })
      .then(() => callback(), callback);
  }

  /** A destroyed stream that did not finish (an error, an abort) gives its connection up: the rows go with it. */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (err === null && this.writableFinished) callback(null);
    else
      this.close().then(
        () => callback(err),
        () => callback(err),
      );
  }

  /** Connects, opens the transaction, prepares the table and starts the COPY. */
  async #begin(columns: readonly Column[]): Promise<Session> {
    const client = await connectPostgres(this.#url, (err) => this.destroy(err));
    try {
      await client.query('BEGIN');
      const { into, typnames, swap } = await this.#prepare(client, columns);
      const encoder = copyEncoder(columns, typnames, this.name);
      const names = columns.map((column) => pg.escapeIdentifier(column.name)).join(', ');
      const copy = client.query(copyFrom(`COPY ${into} (${names}) FROM STDIN${encoder.option}`));
      copy.on('error', (err) => this.destroy(this.#failure(err)));
      return swap === undefined ? { client, copy, encoder } : { client, copy, encoder, swap };
    } catch (err) {
      await client.end().catch(() => undefined);
      throw this.#failure(err);
    }
  }

  /**
   * Where the rows go: the table, created when missing, or for `replace` a new table next to it; and the
   * type (pg_type.typname) of its column for each output column.
   */
  async #prepare(
    client: pg.Client,
    columns: readonly Column[],
  ): Promise<{ into: string; typnames: readonly (string | undefined)[]; swap?: Session['swap'] }> {
    const target = quoteTable(this.#table);
    const created = columns.map((column) => BINARY_TYPNAMES[column.type]);
    let existing = await tableColumns(client, target);
    if (existing === undefined) {
      if (await createTable(client, target, columns)) return { into: target, typnames: created };
      // Another run created it meanwhile, and committed: it exists now.
      existing = (await tableColumns(client, target)) ?? [];
    }
    if (this.#ifExists === 'fail')
      throw new BatchInferError(
        ErrorCodes.TABLE_EXISTS,
        `The output table ${this.name} exists; choose --if-exists append or replace to write into it`,
      );
    if (this.#ifExists === 'append') {
      const mismatch = columnsMismatch(existing, columns);
      if (mismatch !== undefined)
        throw new BatchInferError(
          ErrorCodes.TABLE_COLUMNS,
          `The output table ${this.name} does not fit the run's output (${mismatch}): the table has ` +
            `(${existing.map((c) => `${c.name} ${c.type}`).join(', ')}), the output has ` +
            `(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`,
        );
      const byName = new Map(existing.map((column) => [column.name, column.typname]));
      return { into: target, typnames: columns.map((column) => byName.get(column.name)) };
    }
    const { schema, name } = await tableSchema(client, target);
    // Unique without a catalog lookup; 63 bytes is PostgreSQL's limit for a name.
    const stagingName = `${Buffer.from(name).subarray(0, 40).toString()}_batch_infer_${randomBytes(4).toString('hex')}`;
    const staging = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(stagingName)}`;
    await client.query(`CREATE TABLE ${staging} (${columnDefinitions(columns)})`);
    return {
      into: staging,
      typnames: created,
      swap: { staging, drop: target, rename: pg.escapeIdentifier(name) },
    };
  }

  #failure(err: unknown): BatchInferError {
    return postgresError(err, ErrorCodes.OUTPUT_WRITE, `PostgreSQL refused the output ${this.name}`);
  }

  /** Commits: after the stream finished, and only then. */
  async commit(): Promise<void> {
    if (this.#closed !== undefined)
      throw new BatchInferError(ErrorCodes.OUTPUT_WRITE, `Cannot commit ${this.name}: it was discarded`);
    if (!this.writableFinished)
      throw new BatchInferError(
        ErrorCodes.OUTPUT_WRITE,
        `Cannot commit ${this.name}: its stream did not finish`,
      );
    const session = this.#session;
    if (session === undefined) return; // no batch, so no columns: nothing to create
    const { client, swap } = await session;
    this.#closed = (async () => {
      try {
        if (swap !== undefined) {
          await client.query(`DROP TABLE ${swap.drop}`);
          await client.query(`ALTER TABLE ${swap.staging} RENAME TO ${swap.rename}`);
        }
        await client.query('COMMIT');
      } catch (err) {
        throw this.#failure(err);
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    return this.#closed;
  }

  /**
   * Gives the transaction up: ending the connection without COMMIT is a rollback (PostgreSQL's own, the one a
   * killed process gets), and needs no COPY to be ended first. Idempotent: `discard()` after `_destroy` waits.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const session = await this.#session?.catch(() => undefined);
      await session?.client.end().catch(() => undefined);
    })();
    return this.#closed;
  }
}

/** The columns of `table`, or undefined when there is no such table. */
async function tableColumns(client: pg.Client, table: string): Promise<TableColumn[] | undefined> {
  const found = await client.query<{ relkind: string }>(
    'SELECT relkind FROM pg_class WHERE oid = to_regclass($1)',
    [table],
  );
  const relkind = found.rows[0]?.relkind;
  if (relkind === undefined) return undefined;
  if (relkind !== 'r' && relkind !== 'p')
    throw new BatchInferError(
      ErrorCodes.OUTPUT_WRITE,
      `The output ${table} is not a table (relkind ${relkind})`,
    );
  const { rows } = await client.query<TableColumn>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typname,
            (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS optional
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table],
  );
  return rows;
}

/** The schema and name of an existing table, so that its replacement is made next to it. */
async function tableSchema(client: pg.Client, table: string): Promise<{ schema: string; name: string }> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [table],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`${table} disappeared`);
  return row;
}

/**
 * Creates the table; false when another transaction created it first (PostgreSQL then waits for that
 * transaction and fails with duplicate_table or unique_violation). A savepoint keeps ours usable after that.
 */
async function createTable(client: pg.Client, table: string, columns: readonly Column[]): Promise<boolean> {
  await client.query('SAVEPOINT batch_infer_create');
  try {
    await client.query(`CREATE TABLE ${table} (${columnDefinitions(columns)})`);
  } catch (err) {
    const state = err instanceof pg.DatabaseError ? err.code : undefined;
    if (state !== '42P07' && state !== '23505') throw err;
    await client.query('ROLLBACK TO SAVEPOINT batch_infer_create');
    return false;
  }
  await client.query('RELEASE SAVEPOINT batch_infer_create');
  return true;
}

/**
 * The output's columns as a table's: text, bool, int4, int8, float4 or float8 (binary COPY writes into these),
 * NOT NULL for a `required` column (a model's outputs).
 */
function columnDefinitions(columns: readonly Column[]): string {
  return columns
    .map(
      (column) =>
        `${pg.escapeIdentifier(column.name)} ${BINARY_TYPNAMES[column.type]}${column.required === true ? ' NOT NULL' : ''}`,
    )
    .join(', ');
}

/**
 * Why an existing table cannot take the output, or undefined when it can: every output column must be one of
 * its columns, of a type in {@link FITS}; a column of the table the output lacks must have a default (an id,
 * a timestamp), since a run that leaves one out is more likely another output than a narrower one.
 */
function columnsMismatch(table: readonly TableColumn[], output: readonly Column[]): string | undefined {
  const byName = new Map(table.map((column) => [column.name, column]));
  const outputNames = new Set(output.map((column) => column.name));
  const reasons: string[] = [];
  for (const column of output) {
    const existing = byName.get(column.name);
    if (existing === undefined) reasons.push(`no column ${column.name}`);
    else if (column.type !== 'string' && !FITS[column.type].includes(existing.typname))
      reasons.push(`${column.name} is ${existing.type}, which cannot hold ${column.type}`);
  }
  for (const column of table)
    if (!outputNames.has(column.name) && !column.optional)
      reasons.push(`${column.name} is not in the output and has no default`);
  return reasons.length === 0 ? undefined : reasons.join('; ');
}
