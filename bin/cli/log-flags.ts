/**
 * How every command logs (issue #19). On a terminal, log lines are for people: time, level (coloured),
 * message and the few fields that matter, formatted by pino-pretty. Anywhere else — a pipe, a file, a
 * container's log collector — they are pino's JSON lines, exactly as they always were. `--log-format` chooses
 * explicitly; `--quiet`, `--verbose` and `--log-level` choose how much.
 *
 * pino-pretty is imported only when lines are pretty, so a process whose stderr is not a terminal (the
 * container, CI, a script) neither loads it nor pays for it at start-up.
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { choice, str, usageError, type FlagValues, type OptionSpec } from './command.js';
import { colorEnabled, isTerminal } from './terminal.js';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The flags every command takes (command.ts adds them to each command's own). */
export const LOG_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'log-format': {
    type: 'string',
    value: `<${LOG_FORMATS.join('|')}>`,
    description: 'Log lines for people (time, level, message) or JSON lines (pino) for machines.',
    default: 'pretty when stderr is a terminal, else json',
  },
  'log-level': {
    type: 'string',
    value: '<level>',
    description: `Least severe level logged: ${LEVELS.join(', ')}.`,
    default: 'info',
    group: 'verbosity',
  },
  quiet: {
    type: 'boolean',
    short: 'q',
    description: 'Only warnings and errors: no progress line, no summary (--log-level warn).',
    group: 'verbosity',
  },
  verbose: {
    type: 'boolean',
    description: 'Debug lines too, and the stacks of logged errors (--log-level debug).',
    group: 'verbosity',
  },
};

export interface LogSettings {
  format: LogFormat;
  level: Level | 'silent';
  /** Pretty lines are coloured (NO_COLOR, FORCE_COLOR and the terminal decide). */
  color: boolean;
}

export function logSettings(
  values: FlagValues,
  stderr: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): LogSettings {
  const level = choice('log-level', str(values, 'log-level'), LEVELS);
  const chosen = [level === undefined ? '' : '--log-level', values.quiet === true ? '--quiet' : '']
    .concat(values.verbose === true ? '--verbose' : '')
    .filter((f) => f !== '');
  if (chosen.length > 1) throw usageError(`${chosen.join(' and ')} both choose the log level: give one`);
  const format =
    choice('log-format', str(values, 'log-format'), LOG_FORMATS) ?? (isTerminal(stderr) ? 'pretty' : 'json');
  return {
    format,
    level: level ?? (values.quiet === true ? 'warn' : values.verbose === true ? 'debug' : 'info'),
    color: format === 'pretty' && colorEnabled(stderr, env),
  };
}

/**
 * The fields a person wants after the message; the rest (trace and span ids, progress, the run summary) are
 * for machines and stay in the JSON lines.
 */
const FIELDS = ['model', 'models', 'versions', 'default_version', 'method', 'path', 'status', 'attempt'];

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function createLogger(settings: LogSettings, stderr: NodeJS.WritableStream): Promise<Logger> {
  if (settings.format === 'json')
    return pino({ base: null, level: settings.level }, pino.destination({ fd: 2, sync: true }));
  const { prettyFactory } = await import('pino-pretty');
  const prettify = prettyFactory({
    colorize: settings.color,
    translateTime: 'SYS:HH:MM:ss',
    // The error's stack only when asked for; its message is on the line (below).
    include: settings.level === 'debug' || settings.level === 'trace' ? 'level,time,err' : 'level,time',
    messageFormat: (log, messageKey, _label, { colors }) => {
      const message = shown(log[messageKey] ?? '');
      const err = (log.err as { message?: unknown } | undefined)?.message;
      const why = typeof err === 'string' && !message.includes(err) ? `: ${err}` : '';
      const fields = FIELDS.filter((k) => log[k] !== undefined).map((k) => `${k}=${shown(log[k])}`);
      return `${message}${why}${fields.length === 0 ? '' : ` ${colors.gray(fields.join(' '))}`}`;
    },
  });
  // On a terminal a line starts by erasing the live progress line it would otherwise be appended to.
  const erase = isTerminal(stderr) ? '\r\x1b[K' : '';
  const destination: DestinationStream = {
    write(line) {
      const text = prettify(line);
      if (text !== '') stderr.write(`${erase}${text}`);
    },
  };
  return pino({ base: null, level: settings.level }, destination);
}
