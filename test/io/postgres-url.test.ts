/**
 * PostgreSQL URLs and passwords (issue #17): recognising and redacting a URL, and a real server taking the
 * password from the URL, PGPASSWORD, ~/.pgpass or PGPASSFILE (with HOME pointed at a temporary directory), in
 * libpq's order, ignoring a password file others can read, and never naming a password in an error.
 */
import t from 'tap';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes } from '../../lib/errors.js';
import { postgresSink } from '../../lib/io/postgres-sink.js';
import { postgresSource } from '../../lib/io/postgres-source.js';
import { isPostgresUrl, redactUrl } from '../../lib/io/postgres-url.js';
import type { SourceRecord } from '../../lib/io/table.js';
import { tempDir } from '../helpers.js';
import { SKIP_WITHOUT_POSTGRES, startPostgres } from '../support/postgres.js';

t.test('postgres:// and postgresql:// URLs are recognised', async (t) => {
  t.ok(isPostgresUrl('postgres://db.example/scoring'));
  t.ok(isPostgresUrl('PostgreSQL://u@db/scoring'));
  t.notOk(isPostgresUrl('data/postgres.csv'));
  t.notOk(isPostgresUrl('s3://bucket/postgres://x'));
});

t.test('redactUrl hides the password, and only it', async (t) => {
  t.equal(redactUrl('postgres://u:secret@db:5432/scoring'), 'postgres://u:***@db:5432/scoring');
  t.equal(redactUrl('postgres://u@db/scoring'), 'postgres://u@db/scoring');
  t.equal(redactUrl('postgres://db/scoring'), 'postgres://db/scoring');
  t.equal(redactUrl('postgres://u:@db/scoring'), 'postgres://u:@db/scoring');
  t.equal(redactUrl('postgresql://u:p%40ss@db/scoring#t'), 'postgresql://u:***@db/scoring#t');
  // Unencoded characters that end a URL's parts elsewhere: the password is still hidden.
  t.equal(redactUrl('postgres://u:pa/ss?w@rd@db/scoring'), 'postgres://u:***@db/scoring');
  t.equal(
    redactUrl('postgres://db/scoring?sslmode=require&password=secret&application_name=x'),
    'postgres://db/scoring?sslmode=require&password=***&application_name=x',
  );
  t.equal(
    redactUrl('postgres:///scoring?host=/run/postgresql&password=secret'),
    'postgres:///scoring?host=/run/postgresql&password=***',
  );
});

t.test('a URL pg cannot read is refused when the source or sink is made, without its password', async (t) => {
  for (const make of [
    () => postgresSource('postgres://u:secret-1@db:port/scoring', { table: 't' }),
    () => postgresSink('postgres://u:secret-1@db:port/scoring', { table: 't', ifExists: 'fail' }),
  ]) {
    const err = t.throws(make, { code: ErrorCodes.INVALID_OPTION }) as Error;
    t.equal(err.message, 'Invalid PostgreSQL URL postgres://u:***@db:port/scoring: Invalid URL');
    t.notMatch(JSON.stringify(err), 'secret-1');
  }
});

t.test(
  'passwords from the URL, PGPASSWORD and the password file',
  { skip: SKIP_WITHOUT_POSTGRES },
  async (t) => {
    const db = await startPostgres(t);
    const home = await tempDir(t);
    const saved = {
      HOME: process.env.HOME,
      PGPASSWORD: process.env.PGPASSWORD,
      PGPASSFILE: process.env.PGPASSFILE,
    };
    t.teardown(() => {
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
    });
    process.env.HOME = home;
    delete process.env.PGPASSWORD;
    delete process.env.PGPASSFILE;
    const pgpass = join(home, '.pgpass');

    /** The user the server says we are, or the error's code and message. */
    const whoAmI = async (url: string): Promise<string> => {
      try {
        const records: SourceRecord[] = [];
        for await (const record of postgresSource(url, { query: 'SELECT current_user' }).open())
          records.push(record as SourceRecord);
        return String(records[1]?.values[0]);
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
    };
    const bare = db.url({ password: null });

    t.test('from the URL; a wrong one is refused without being named', async (t) => {
      t.equal(await whoAmI(db.url()), 'batch_infer');
      const refused = await whoAmI(db.url({ password: 'wrong-one-77' }));
      t.match(
        refused,
        `${ErrorCodes.ACCESS}: Cannot connect to PostgreSQL as batch_infer@127.0.0.1:${db.port}/postgres`,
      );
      t.match(refused, /password authentication failed.*\(password from the URL\)/);
      t.notMatch(refused, 'wrong-one-77');
    });

    t.test('none at all: refused, saying where none was found', async (t) => {
      const refused = await whoAmI(bare);
      t.match(refused, ErrorCodes.ACCESS);
      t.match(refused, `no password: none in the URL, in PGPASSWORD or in ${pgpass}`);
    });

    t.test('from PGPASSWORD, when the URL has none', async (t) => {
      process.env.PGPASSWORD = db.password;
      t.teardown(() => delete process.env.PGPASSWORD);
      t.equal(await whoAmI(bare), 'batch_infer');
      process.env.PGPASSWORD = 'wrong-env-88';
      const refused = await whoAmI(bare);
      t.match(refused, /password authentication failed.*\(password from PGPASSWORD\)/);
      t.notMatch(refused, 'wrong-env-88');
      // The URL's password comes first.
      t.equal(await whoAmI(db.url()), 'batch_infer');
    });

    t.test('from ~/.pgpass: the first matching line, with wildcards and escapes', async (t) => {
      await db.sql(`CREATE ROLE "we:ird" LOGIN PASSWORD 'p:a\\ss'`);
      await writeFile(
        pgpass,
        [
          '# comments and lines for other servers come first',
          `127.0.0.1:${db.port + 1}:*:batch_infer:not-this-one`,
          `other-host:*:*:*:nor-this`,
          `127.0.0.1:${db.port}:postgres:batch_infer:${db.password}`,
          `127.0.0.1:${db.port}:*:we\\:ird:p\\:a\\\\ss`,
          `*:*:*:*:too-late`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      t.equal(await whoAmI(bare), 'batch_infer');
      t.equal(await whoAmI(`postgres://we%3Aird@127.0.0.1:${db.port}/postgres`), 'we:ird');
      // PGPASSWORD comes before the file.
      process.env.PGPASSWORD = 'wrong-env-99';
      t.teardown(() => delete process.env.PGPASSWORD);
      t.match(await whoAmI(bare), /password from PGPASSWORD/);
    });

    t.test('a password file group or others can read is ignored, as libpq does', async (t) => {
      await chmod(pgpass, 0o644);
      t.teardown(() => chmod(pgpass, 0o600));
      const refused = await whoAmI(bare);
      t.match(refused, ErrorCodes.ACCESS);
      t.match(refused, 'ignored: group or others can read it; chmod 600 it');
      t.notMatch(refused, db.password);
    });

    t.test('PGPASSFILE names another file', async (t) => {
      const other = join(home, 'elsewhere.pgpass');
      await writeFile(other, `*:*:*:batch_infer:${db.password}\n`, { mode: 0o600 });
      await writeFile(pgpass, `*:*:*:*:wrong-in-home\n`, { mode: 0o600 });
      process.env.PGPASSFILE = other;
      t.teardown(() => delete process.env.PGPASSFILE);
      t.equal(await whoAmI(bare), 'batch_infer');
    });
  },
);
