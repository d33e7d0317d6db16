/**
 * HTML built with a tagged template that escapes every interpolated value, so a feature name, file path or
 * error message from the user's data can never become markup. Only `Html` values (the output of `html` or
 * `raw`) pass through as they are.
 */

/** A fragment of markup that is already safe to place in a page. */
export class Html {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Trusted markup: only for constants of this module's callers, never for data. */
export function raw(text: string): Html {
  return new Html(text);
}

/** What may be interpolated: markup, text and numbers; nothing (null, undefined, false); lists of these. */
export type Value = Html | string | number | boolean | null | undefined | readonly Value[];

/** An interpolated value: `Html` as is, a list joined, nothing for null, undefined and false, else escaped. */
function piece(value: Value): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly Value[]).map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += piece(value) + (strings[i + 1] ?? '');
  });
  return new Html(text);
}

export const EMPTY: Html = new Html('');

/**
 * JSON to embed in a `<script type="application/json">` element: `<` is written as `\u003c`, so no value
 * can close the element (`</script>`) or open a comment; JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
