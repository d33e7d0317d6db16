/**
 * A real PostgreSQL for one test file (issue #17): `initdb` in a temporary directory, a server on a free port
 * of 127.0.0.1 (its unix socket inside that directory, so nothing outside it is touched), SCRAM password
 * authentication for every connection, TCP and socket alike, so a wrong password is refused as in production.
 * It is stopped and its directory removed when the test ends.
 *
 * PostgreSQL refuses to run as root, and CI runs as root: then initdb and pg_ctl run as the `postgres` user
 * that Debian's `postgresql` package creates (through `runuser`), in a directory chowned to it. Run as anyone
 * else, they run as that user.
 *
 * Needs Debian's `postgresql` (server binaries in /usr/lib/postgresql/<major>/bin). {@link POSTGRES_MISSING}
 * says why when they are absent; a test skips on a developer's machine and fails in CI (CI=true).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import pg from 'pg';
import type { Test } from 'tap';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { freePort } from './free-port.js';

const exec = promisify(execFile);

/** The newest server binaries Debian installed, e.g. /usr/lib/postgresql/15/bin. */
function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(root, majors[0], 'bin');
}

const BIN_DIR = process.env.BATCH_INFER_PG_BIN ?? findBinDir();

/** Why PostgreSQL cannot be started here, or undefined when it can. */
export const POSTGRES_MISSING: string | undefined =
  BIN_DIR !== undefined && existsSync(join(BIN_DIR, 'initdb'))
    ? undefined
    : 'PostgreSQL server binaries not found in /usr/lib/postgresql/<major>/bin (apt-get install postgresql)';

/** The `skip` option for a test that needs PostgreSQL: skipped without it, except in CI where it must run. */
export const SKIP_WITHOUT_POSTGRES: string | false =
  POSTGRES_MISSING !== undefined && process.env.CI !== 'true' ? POSTGRES_MISSING : false;

/** The user PostgreSQL runs as when the tests run as root. */
const SERVER_USER = 'postgres';

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** A URL for the test user; `password: null` leaves the password out (for PGPASSWORD and .pgpass tests). */
  url(options?: { password?: string | null; database?: string }): string;
  /** Runs SQL as the test user on a connection of its own, and returns the rows as arrays. */
  sql(text: string, values?: unknown[]): Promise<unknown[][]>;
}

/** Starts a PostgreSQL server for test `t`; it is stopped and removed when `t` ends. */
export async function startPostgres(t: Test): Promise<TestPostgres> {
  if (POSTGRES_MISSING !== undefined || BIN_DIR === undefined) throw new Error(POSTGRES_MISSING);
  const binDir = BIN_DIR;
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'batch-infer-pg-'));
  let started = false;
  t.teardown(async () => {
    if (started)
      await run(binDir, asRoot, dir, 'pg_ctl', ['stop', '-D', join(dir, 'data'), '-m', 'immediate']);
    await rm(dir, { recursive: true, force: true });
  });

  const user = 'batch_infer';
  const password = randomBytes(12).toString('hex');
  await writeFile(join(dir, 'password'), `${password}\n`);
  if (asRoot) {
    const [uid, gid] = await Promise.all([idOf(SERVER_USER, '-u'), idOf(SERVER_USER, '-g')]);
    await chown(dir, uid, gid);
    await chown(join(dir, 'password'), uid, gid);
  }
  await chmod(dir, 0o700);
  await run(binDir, asRoot, dir, 'initdb', [
    '-D',
    join(dir, 'data'),
    '-U',
    user,
    `--pwfile=${join(dir, 'password')}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);

  // pg_ctl fails when another process took the port between the probe and the start: try another.
  let port = 0;
  for (let attempt = 1; !started; attempt++) {
    port = await freePort();
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      // Durability is not what these tests are about; speed is.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    try {
      await run(binDir, asRoot, dir, 'pg_ctl', [
        'start',
        '-D',
        join(dir, 'data'),
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        '-o',
        options,
      ]);
      started = true;
    } catch (err) {
      if (attempt === 3) {
        const log = await readFile(join(dir, 'server.log'), 'utf8').catch(() => '');
        throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${log}`, { cause: err });
      }
    }
  }

  const host = '127.0.0.1';
  const database = 'postgres';
  const server: TestPostgres = {
    host,
    port,
    user,
    password,
    database,
    url(options = {}) {
      const secret = options.password === undefined ? password : options.password;
      const auth = secret === null ? user : `${user}:${encodeURIComponent(secret)}`;
      return `postgres://${auth}@${host}:${port}/${options.database ?? database}`;
    },
    async sql(text, values) {
      const client = new pg.Client({ host, port, user, password, database });
      await client.connect();
      try {
        const result = await client.query<unknown[]>({ text, values: values ?? [], rowMode: 'array' });
        return result.rows;
      } finally {
        await client.end();
      }
    },
  };
  return server;
}

/** Runs one of the server binaries, as the `postgres` user when we are root. */
async function run(
  binDir: string,
  asRoot: boolean,
  cwd: string,
  tool: string,
  args: string[],
): Promise<void> {
  const command = join(binDir, tool);
  // The cwd is the server's directory: the postgres user may not be allowed into ours.
  if (asRoot) await exec('runuser', ['-u', SERVER_USER, '--', command, ...args], { cwd });
  else await exec(command, args, { cwd });
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await exec('id', [flag, user]);
  return Number(stdout.trim());
}

/**
 * The bundled weather CSV as table `table` (an `id serial` key, typed columns), with precipitation null in rows
 * 7 and 1,000 (0-based 6 and 999) so that nulls and rejects are exercised; returns the rows loaded.
 */
export async function loadWeatherTable(db: TestPostgres, table: string): Promise<number> {
  const rows = parseCsv<Record<string, string>>(
    await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), 'utf8'),
    { columns: true },
  );
  await db.sql(
    `CREATE TABLE ${table} (id serial PRIMARY KEY, location text, date date, precipitation double precision,
       temp_max double precision, temp_min double precision, wind double precision, weather text)`,
  );
  const values = rows.map((r, i) => [
    r.location,
    r.date,
    i === 6 || i === 999 ? null : Number(r.precipitation),
    Number(r.temp_max),
    Number(r.temp_min),
    Number(r.wind),
    r.weather,
  ]);
  for (let i = 0; i < values.length; i += 500) {
    const chunk = values.slice(i, i + 500);
    const params = chunk.map((_, j) => `(${[1, 2, 3, 4, 5, 6, 7].map((k) => `$${j * 7 + k}`).join(', ')})`);
    await db.sql(
      `INSERT INTO ${table} (location, date, precipitation, temp_max, temp_min, wind, weather) VALUES ${params.join(', ')}`,
      chunk.flat(),
    );
  }
  return rows.length;
}
