/**
 * What a `--input` or `--output` names, by its URL scheme or file extension (docs/pipeline.md, "Sources and
 * sinks"): a PostgreSQL database, an S3 object, an http(s) URL, stdin/stdout, or a file; and the format of
 * its bytes, unless the user said (`--input-format`, `--output-format`).
 */
import { basename, extname } from 'node:path';

export type LocationKind = 'postgres' | 's3' | 'http' | 'stdio' | 'file';

export const DATA_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

export function locationKind(target: string): LocationKind {
  if (/^postgres(ql)?:\/\//i.test(target)) return 'postgres';
  if (/^s3:\/\//i.test(target)) return 's3';
  if (/^https?:\/\//i.test(target)) return 'http';
  return target === '-' ? 'stdio' : 'file';
}

/** The path part of a target (a URL's pathname, without its query), for its extension and its name. */
function pathOf(target: string): string {
  const kind = locationKind(target);
  if (kind === 'file' || kind === 'stdio') return target;
  try {
    return decodeURIComponent(new URL(target).pathname);
  } catch {
    return target;
  }
}

/** The format of a file or object's bytes: the one given, else by extension (`.parquet`, `.jsonl`), else CSV. */
export function formatOfTarget(target: string, explicit: DataFormat | undefined): DataFormat {
  if (explicit !== undefined) return explicit;
  const ext = extname(pathOf(target)).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  return ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : 'csv';
}

/**
 * The base of the side files (summary, metrics, rejects) of an output that is not a file: they go to the
 * working directory, named after the output table or the object (`predictions.summary.json`).
 */
export function sideFileBase(target: string, table: string | undefined): string {
  if (locationKind(target) === 'postgres') return table ?? 'output';
  return basename(pathOf(target)).replace(/\.(csv|parquet|pq)$/i, '') || 'output';
}

/** Query parameters that carry a secret: presigned S3, GCS and Azure URLs, API keys and tokens, passwords. */
const SECRET_PARAM = /signature|^sig$|token|secret|password|passwd|credential|key|auth|session/i;

/**
 * The URL as logs, summaries and errors name it: a password in the user information (`user:secret@host`) and
 * the values of secret-looking query parameters (a password, a presigned URL's signature, a token) replaced by
 * `***`. The user information ends at the last `@`, so a password with an unencoded `/`, `?` or `@` in it is
 * still hidden; when in doubt, more than the secret is hidden, never less. One function for every kind of URL
 * (postgres://, https://, s3://), so that none leaks where another would not.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('//');
  if (start < 0) return url;
  const head = url.slice(0, start + 2);
  let rest = url.slice(start + 2);
  const at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  if (at >= 0 && colon >= 0 && colon + 1 < at) rest = `${rest.slice(0, colon)}:***${rest.slice(at)}`;
  return (
    head +
    rest.replace(/([?&])([^=&#]+)=([^&#]*)/g, (param, sep: string, key: string) =>
      SECRET_PARAM.test(key) ? `${sep}${key}=***` : param,
    )
  );
}
