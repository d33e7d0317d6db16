/**
 * What a `postgres://` URL says (issue #17): whether an input or output is one, the name logs, summaries and
 * metrics give it (with the password replaced by `***`), and the configuration `pg` connects with.
 *
 * The password is looked for where libpq looks, in libpq's order: the URL (`user:password@` or
 * `?password=`), then `PGPASSWORD`, then the password file (`PGPASSFILE`, else `~/.pgpass`). `pg` reads the
 * first two itself; it can read the file too, through the `pgpass` module, but that support is deprecated
 * (it prints a DeprecationWarning on first use and goes away in pg 9), and `pgpass` is not a dependency of
 * ours: lib/io/postgres-pgpass.ts reads the file by libpq's rules instead. Only when that finds no password
 * does pg's own lookup still run, when the server asks for one; it finds none either, and warns on stderr
 * about a file others can read, as libpq does.
 */
import pg from 'pg';
import { BatchInferError, ErrorCodes } from '../errors.js';
import { redactUrl } from './locations.js';
import { findPgpassPassword } from './postgres-pgpass.js';

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(text: string): boolean {
  return POSTGRES_URL.test(text);
}

export { redactUrl };

/** How to connect, and what to say about it when connecting fails. */
export interface PostgresConnection {
  /** For `new pg.Client(config)`. Carries the password: never log it. */
  readonly config: pg.ClientConfig;
  /** `user@host:port/database`, as `pg` resolved them (URL, then PG* variables, then its defaults). */
  readonly target: string;
  /** Where the password came from, or why there is none, for an error message: never the password. */
  readonly passwordSource: string;
}

/** Refuses (BI_ERR_INVALID_OPTION) a URL pg cannot read, so that a source or sink fails when it is made. */
export function checkPostgresUrl(url: string): void {
  resolve(url);
}

/**
 * The connection for a `postgres://` URL. Reads the password file when neither the URL nor `PGPASSWORD` gives
 * a password (libpq does it at the same point, before connecting).
 */
export async function postgresConnection(url: string): Promise<PostgresConnection> {
  const { config, resolved } = resolve(url);
  const { host, port, user = '', database = '' } = resolved;
  const target = `${user}@${host}:${port}/${database}`;
  // null, not undefined as its type says, when there is none.
  const given: unknown = resolved.password;
  if (typeof given === 'string' && given !== '') {
    const source = redactUrl(url) === url ? 'PGPASSWORD' : 'the URL';
    return { config, target, passwordSource: `password from ${source}` };
  }
  const found = await findPgpassPassword({ host, port, database, user });
  if (found.password === undefined) return { config, target, passwordSource: found.note };
  // A `password` parameter is part of libpq's URL syntax, and pg reads it before the user information; a
  // separate `password` option would lose against the URL's empty one.
  const withPassword = `${url}${url.includes('?') ? '&' : '?'}password=${encodeURIComponent(found.password)}`;
  return { config: { ...config, connectionString: withPassword }, target, passwordSource: found.note };
}

/**
 * pg's reading of the URL: it resolves host, port, user, database and password (URL, PG* variables, its
 * defaults) when a client is made. The client is only read, never connected.
 */
function resolve(url: string): { config: pg.ClientConfig; resolved: pg.Client } {
  const config: pg.ClientConfig = { connectionString: url, fallback_application_name: 'batch-infer' };
  try {
    return { config, resolved: new pg.Client(config) };
  } catch (err) {
    // pg's error leaves the URL out (it may hold a password); the redacted one says which.
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid PostgreSQL URL ${redactUrl(url)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
