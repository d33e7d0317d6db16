/** The shape every CLI command shares, and the argument parsing and help text built from it. */
import { parseArgs } from 'node:util';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import type { Logger } from 'pino';
import { parseDuration } from '../../lib/core/duration.js';
import { applyDefaults, envNames, type FlagValues } from './config.js';
import { LOG_OPTIONS } from './log-flags.js';

export type { FlagValues } from './config.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The flag may be given several times (a string list; a comma-separated list in env and config). */
  multiple?: boolean;
  short?: string;
  /** Platform environment variables read after `BATCH_INFER_<FLAG>`, e.g. `AIP_HTTP_PORT`. */
  env?: readonly string[];
  /** Placeholder shown in help, e.g. `<file>`. */
  value?: string;
  description: string;
  default?: string;
  /**
   * Flags of one group are one choice (`--quiet`, `--verbose`, `--log-level`): the first source that sets
   * any of them (command line, environment, config file) sets them all, so `--quiet` on the command line is
   * not undone by `BATCH_INFER_LOG_LEVEL=debug` in the environment.
   */
  group?: string;
}

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /**
   * Log lines are for people (`--log-format pretty`, the default on a terminal): commands then also write a
   * short summary of what they did to stderr, where the JSON lines would carry it for machines.
   */
  pretty?: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** The flag a lone positional argument stands for (`batch-infer inspect titanic` = `--model titanic`). */
  positional?: string;
  examples: string[];
  run(values: FlagValues, io: CliIO): Promise<number>;
}

export function usageError(message: string): BatchInferError {
  return new BatchInferError(ErrorCodes.USAGE, message);
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help.' };
const CONFIG: OptionSpec = {
  type: 'string',
  value: '<file>',
  description: 'JSON file of flag values, e.g. {"batch-size": 512}.',
};

/** The flags every command takes besides its own: how it logs, a config file, help. */
function withSharedOptions(command: Command): Record<string, OptionSpec> {
  return { ...command.options, ...LOG_OPTIONS, config: CONFIG, help: HELP };
}

/**
 * Parses a command's arguments strictly (unknown flags and stray positionals are usage errors), then fills
 * unset flags from the environment and the `--config` file (see config.ts).
 */
export function parseCommandArgs(command: Command, args: string[], env: NodeJS.ProcessEnv): FlagValues {
  const options = withSharedOptions(command);
  let values: FlagValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: command.positional !== undefined,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          {
            type: o.type,
            ...(o.short ? { short: o.short } : {}),
            ...(o.multiple === true ? { multiple: true } : {}),
          },
        ]),
      ),
    }) as { values: FlagValues; positionals: string[] }); // boolean flags are never `multiple`: lists hold strings
  } catch (err) {
    throw usageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  const flag = command.positional;
  if (flag !== undefined && positionals.length > 0) {
    if (positionals.length > 1 || values[flag] !== undefined)
      throw usageError(`Give one ${flag}, as an argument or as --${flag}; got ${[...positionals].join(' ')}`);
    values[flag] = positionals[0];
  }
  return values.help === true
    ? values
    : applyDefaults(command, { ...command.options, ...LOG_OPTIONS }, values, env);
}

export function commandHelp(command: Command): string {
  const options = withSharedOptions(command);
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    const extra = o.default === undefined ? '' : ` (default: ${o.default})`;
    const vars = name === 'help' ? '' : `\n  ${''.padEnd(32)} env: ${envNames(name, o).join(', ')}`;
    return `  ${flag.padEnd(32)} ${o.description}${extra}${vars}`;
  });
  return [
    `Usage: batch-infer ${command.name}${command.positional === undefined ? '' : ` [${command.positional}]`} [options]`,
    '',
    command.summary,
    '',
    'Options (flags win over environment variables, which win over --config):',
    ...rows,
    '',
    'Examples:',
    ...command.examples.map((e) => `  $ ${e}`),
    '',
  ].join('\n');
}

/** A string flag's value (the last one, when given several times), or undefined. */
export function str(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable flag's values, or an empty list. */
export function list(values: FlagValues, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}

/** An integer flag's value; anything else is a usage error naming the flag. */
export function int(values: FlagValues, name: string, min: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw usageError(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return Number(v);
}

/** A duration flag's value in milliseconds (`250ms`, `2s`, `1m`; a bare number is ms). */
export function duration(values: FlagValues, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === undefined) throw usageError(`--${name} must be a duration like 250ms, 2s or 1m, got "${v}"`);
  return ms;
}

/** A flag whose value must be one of `choices`, or undefined. */
export function choice<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (value !== undefined && !(choices as readonly string[]).includes(value))
    throw usageError(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T | undefined;
}

/** A comma-separated list of names (`--columns a,b`), or undefined; an empty name is a usage error. */
export function names(values: FlagValues, flag: string): string[] | undefined {
  const text = str(values, flag);
  const list = text?.split(',').map((c) => c.trim());
  if (list?.some((c) => c === ''))
    throw usageError(`--${flag} must be a comma-separated list of names, got "${text ?? ''}"`);
  return list;
}
