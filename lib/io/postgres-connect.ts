/**
 * What the PostgreSQL source and sink share: a connection whose failures are BI_ERR_ACCESS (unreachable,
 * refused credentials, no such database: CLI exit 1), the sorting of later errors into the database's refusal
 * of what was asked (the caller's code) and a lost connection (BI_ERR_ACCESS again), and table names.
 * No message carries a password: targets are `user@host:port/database`, URLs go through redactUrl.
 */
import pg from 'pg';
import { BatchInferError, ErrorCodes, type ErrorCode } from '../errors.js';
import { postgresConnection } from './postgres-url.js';

/** A connected client. Its `error` events (a connection lost between queries) go to `onError`. */
export async function connectPostgres(
  url: string,
  onError: (err: BatchInferError) => void,
): Promise<pg.Client> {
  const connection = await postgresConnection(url);
  const client = new pg.Client(connection.config);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new BatchInferError(
      ErrorCodes.ACCESS,
      `Cannot connect to PostgreSQL as ${connection.target}: ${describe(err)} (${connection.passwordSource})`,
      { cause: err },
    );
  }
  client.on('error', (err) => {
    onError(postgresError(err, ErrorCodes.ACCESS, `Lost the connection to PostgreSQL ${connection.target}`));
  });
  return client;
}

/**
 * An error met on a connected client, as a BatchInferError: the server's refusal of a statement gets `code`
 * and its own message (with its detail and hint); a lost or closed connection, or the server shutting down,
 * is BI_ERR_ACCESS.
 */
export function postgresError(err: unknown, code: ErrorCode, what: string): BatchInferError {
  if (err instanceof BatchInferError) return err;
  const state = err instanceof pg.DatabaseError ? (err.code ?? '') : '';
  // SQLSTATE classes 08 (connection exception), 57P (operator intervention: shutdown) and 28 (authorization).
  const lost = state === '' || /^(08|57P|28)/.test(state);
  return new BatchInferError(lost ? ErrorCodes.ACCESS : code, `${what}: ${describe(err)}`, { cause: err });
}

/** PostgreSQL's message with its detail and hint, or the error's message. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (!(err instanceof pg.DatabaseError)) return err.message;
  return [err.message, err.detail, err.hint].filter((part) => part !== undefined && part !== '').join('. ');
}

/**
 * A table name as SQL: `name` or `schema.name`, each part quoted as written, so a name is case-sensitive and
 * never SQL (`Scores` is the table "Scores", not scores; a dot always separates the schema).
 */
export function quoteTable(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((part) => part === ''))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid table name ${JSON.stringify(name)}: expected name or schema.name`,
      { context: { option: 'table' } },
    );
  return parts.map((part) => pg.escapeIdentifier(part)).join('.');
}
