/**
 * Checking JSON read back from a file against the part of a type the report reads: small combinators that
 * return what is wrong with a value (named by its path, `sets[1].deltas[0].interval`), or undefined. The
 * report refuses a file that fails them rather than draw a page from half of it.
 */

/** Checks a value against part of a shape; returns what is wrong with it, or undefined. */
export type Spec = (value: unknown, path: string) => string | undefined;

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const number: Spec = (v, path) => (typeof v === 'number' ? undefined : `${path} is not a number`);
export const string: Spec = (v, path) => (typeof v === 'string' ? undefined : `${path} is not a string`);
export const boolean: Spec = (v, path) =>
  typeof v === 'boolean' ? undefined : `${path} is not true or false`;
export const nullable =
  (spec: Spec): Spec =>
  (v, path) =>
    v === null ? undefined : spec(v, path);
export const optional =
  (spec: Spec): Spec =>
  (v, path) =>
    v === undefined ? undefined : spec(v, path);
export const oneOf =
  (...choices: string[]): Spec =>
  (v, path) =>
    typeof v === 'string' && choices.includes(v) ? undefined : `${path} is not one of ${choices.join(', ')}`;
export const listOf =
  (spec: Spec): Spec =>
  (v, path) =>
    Array.isArray(v)
      ? v.reduce<string | undefined>((found, x, i) => found ?? spec(x, `${path}[${i}]`), undefined)
      : `${path} is not a list`;
export const mapOf =
  (spec: Spec): Spec =>
  (v, path) =>
    isObject(v)
      ? Object.entries(v).reduce<string | undefined>(
          (found, [k, x]) => found ?? spec(x, `${path}.${k}`),
          undefined,
        )
      : `${path} is not an object`;
export const object =
  (fields: Record<string, Spec>): Spec =>
  (v, path) =>
    isObject(v)
      ? Object.entries(fields).reduce<string | undefined>(
          (found, [k, spec]) => found ?? spec(v[k], path === '' ? k : `${path}.${k}`),
          undefined,
        )
      : `${path === '' ? 'the line' : path} is not an object`;
