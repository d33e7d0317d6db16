/**
 * Error bodies never show the server's own directories. Most messages name nothing of the host, but some come
 * from file handling (a model the repository API cannot find or read names its path); those paths are replaced
 * here, in every 4xx/5xx `{"error"}` body, whatever produced the message. A directory is replaced only where it
 * ends at a path boundary, so `/app` goes but `/apple` stays.
 */
import { resolve } from 'node:path';
import type { Context, Next } from 'koa';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

function isErrorBody(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces `modelsDir` (as given and resolved) with `<model repository>` and the package's directory with
 * `<server>` in a message.
 */
export function pathRedactor(modelsDir: string): (message: string) => string {
  const replacements: [string, string][] = [
    [resolve(modelsDir), '<model repository>'],
    [modelsDir, '<model repository>'],
    [PACKAGE_ROOT, '<server>'],
  ];
  // Longest first, so a nested directory wins over its parent; never the file system root or a bare name.
  const rules = replacements
    .filter(([path]) => path.includes('/') && path.length > 1)
    .sort(([a], [b]) => b.length - a.length)
    .map(([path, label]) => [new RegExp(`${escape(path)}(?=[/\\\\"'\\s:]|$)`, 'g'), label] as const);
  return (message) => rules.reduce((text, [pattern, label]) => text.replace(pattern, label), message);
}

/** Error bodies (`{"error"}` of a 4xx/5xx) with the server's directories replaced (pathRedactor). */
export function redactPathsMiddleware(modelsDir: string) {
  const redact = pathRedactor(modelsDir);
  return async (ctx: Context, next: Next): Promise<void> => {
    await next();
    const body: unknown = ctx.body;
    if (ctx.status < 400 || !isErrorBody(body)) return;
    const message = redact(body.error);
    if (message !== body.error) ctx.body = { ...body, error: message };
  };
}
