/**
 * Whether a stream is for people, and colour for it. Colour follows the conventions other tools do:
 * `FORCE_COLOR` (set, and not `0` or `false`) turns it on even off a terminal, `NO_COLOR` (set and not empty,
 * https://no-color.org) turns it off, and otherwise a terminal that supports it gets it (Node's
 * `tty.WriteStream#hasColors`, which also honours `TERM=dumb` and `NODE_DISABLE_COLORS`).
 */
import { styleText } from 'node:util';

export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

export function colorEnabled(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const hasColors = (stream as { hasColors?: (env: object) => boolean }).hasColors;
  return isTerminal(stream) && typeof hasColors === 'function' && hasColors.call(stream, env);
}

type Style = Parameters<typeof styleText>[0];

/** Text styles that are no-ops when colour is off, so callers never branch on it. */
export interface Styles {
  bold: (text: string) => string;
  dim: (text: string) => string;
  red: (text: string) => string;
  green: (text: string) => string;
  yellow: (text: string) => string;
}

export function styles(color: boolean): Styles {
  // validateStream: false — whether to colour was decided above, for the stream the text goes to (styleText
  // would otherwise look at process.stdout).
  const style =
    (format: Style) =>
    (text: string): string =>
      color ? styleText(format, text, { validateStream: false }) : text;
  return {
    bold: style('bold'),
    dim: style('dim'),
    red: style('red'),
    green: style('green'),
    yellow: style('yellow'),
  };
}

/** Colour for what a command writes to `stream`. */
export function stylesFor(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Styles {
  return styles(colorEnabled(stream, env));
}
