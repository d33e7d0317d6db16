/**
 * Model names and versions in request paths are checked before any route sees them: a name is what a model
 * directory may be called (`weather`, `fraud-v2.onnx_1`), a version a plain token, and neither may be empty,
 * `.`, `..`, absolute, or hold `/`, `\`, `%` or NUL once percent-decoded. So no path a client sends can name a
 * file outside the model repository, whatever a route later does with the name; such paths are answered 400.
 */
import type { Context, Next } from 'koa';
import { MODEL_NAME } from '../model-name.js';
import { HttpError } from './http-error.js';

/** `/v2/models/{m}[/versions/{v}]…` and `/v2/repository/models/{m}/…`, segments still percent-encoded. */
const MODEL_PATH = /^\/v2\/(?:repository\/)?models\/([^/]*)(?:\/versions\/([^/]*))?/i;
export const VERSION = /^[A-Za-z0-9][\w.-]{0,63}$/;

const RULE = 'letters, digits, "_", "." or "-", starting with a letter or digit';

/** Refuses (400, naming `what`) a segment that is not valid percent-encoding or, decoded, breaks `pattern`. */
function check(segment: string, pattern: RegExp, what: string): void {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    throw new HttpError(
      400,
      `The ${what} ${JSON.stringify(segment.slice(0, 100))} is not valid percent-encoding`,
    );
  }
  if (!pattern.test(text))
    throw new HttpError(400, `Invalid ${what} ${JSON.stringify(text.slice(0, 100))}: expected ${RULE}`);
}

export function modelPathMiddleware() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const match = MODEL_PATH.exec(ctx.path);
    if (match !== null) {
      const [, name = '', version] = match;
      check(name, MODEL_NAME, 'model name');
      if (version !== undefined) check(version, VERSION, 'model version');
    }
    await next();
  };
}
