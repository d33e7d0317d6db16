/**
 * The PostgreSQL password file, read by libpq's rules (https://www.postgresql.org/docs/current/libpq-pgpass.html)
 * so that a `~/.pgpass` that works for psql works for batch-infer: `PGPASSFILE`, else `~/.pgpass`; lines
 * `hostname:port:database:username:password` where `*` matches anything and `\` escapes `:` and `\`; the
 * first matching line wins; a socket connection matches `localhost`; a file that group or others can read
 * is ignored. The password ends at the first unescaped `:` too. libpq warns about such a file on stderr; here the note says so in the connection's error.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface PgpassQuery {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** The password found, and a note for error messages saying where it came from or why there is none. */
export interface PgpassResult {
  password?: string;
  note: string;
}

/** Looks `query` up in the password file. Never fails: an unreadable file is a note, as libpq treats it. */
export async function findPgpassPassword(query: PgpassQuery): Promise<PgpassResult> {
  const file = process.env.PGPASSFILE ?? join(homedir(), '.pgpass');
  const none = `no password: none in the URL, in PGPASSWORD or in ${file}`;
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) return { note: `${none} (not a plain file)` };
    if ((info.mode & 0o077) !== 0)
      return { note: `${none} (ignored: group or others can read it; chmod 600 it)` };
    text = await readFile(file, 'utf8');
  } catch {
    return { note: none };
  }
  // libpq matches a socket directory, or no host, as `localhost`.
  const host = query.host === '' || query.host.startsWith('/') ? 'localhost' : query.host;
  const wanted = [host, String(query.port), query.database, query.user];
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = splitLine(line);
    if (fields === undefined) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value))
      return { password: fields[4] ?? '', note: `password from ${file}` };
  }
  return { note: none };
}

/** The five fields of a line, unescaped (anything after a fifth `:` is ignored, as libpq does). */
function splitLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const char = line.charAt(i);
    if (char === ':') {
      fields.push(field);
      field = '';
    } else {
      field += char === '\\' && i + 1 < line.length ? line.charAt(++i) : char;
    }
  }
  fields.push(field);
  return fields.length >= 5 ? fields : undefined;
}
