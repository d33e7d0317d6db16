/** The shape every CLI command shares, and the argument parsing and help text built from it. */
import { parseArgs } from 'node:util';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import type { Logger } from 'pino';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. `<file>`. */
  value?: string;
  description: string;
  default?: string;
}

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  run(values: Record<string, string | boolean | undefined>, io: CliIO): Promise<number>;
}

export function usageError(message: string): BatchInferError {
  return new BatchInferError(ErrorCodes.USAGE, message);
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help.' };

/** Parses a command's arguments strictly: unknown flags and stray positionals are usage errors. */
export function parseCommandArgs(
  command: Command,
  args: string[],
): Record<string, string | boolean | undefined> {
  const options = { ...command.options, help: HELP };
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}) },
        ]),
      ),
    });
    return values;
  } catch (err) {
    throw usageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
}

export function commandHelp(command: Command): string {
  const options = { ...command.options, help: HELP };
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    const extra = o.default === undefined ? '' : ` (default: ${o.default})`;
    return `  ${flag.padEnd(30)} ${o.description}${extra}`;
  });
  return [
    `Usage: batch-infer ${command.name} [options]`,
    '',
    command.summary,
    '',
    'Options:',
    ...rows,
    '',
    'Examples:',
    ...command.examples.map((e) => `  $ ${e}`),
    '',
  ].join('\n');
}

/** A string flag's value, or undefined. */
export function str(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** An integer flag's value; anything else is a usage error naming the flag. */
export function int(
  values: Record<string, string | boolean | undefined>,
  name: string,
  min: number,
): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw usageError(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return Number(v);
}
