/**
 * Where a flag's value comes from, in order: the command line, then environment variables (`BATCH_INFER_<FLAG>`
 * for every flag, plus the platform variables a flag lists, such as `AIP_HTTP_PORT`), then the `--config` JSON
 * file, then the default. The config file holds flag names as keys (`{"batch-size": 512}`) and is checked as
 * strictly as the command line.
 */
import { readFileSync } from 'node:fs';
import type { Command, OptionSpec } from './command.js';
import { usageError } from './command.js';

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** `batch-size` → `BATCH_INFER_BATCH_SIZE`. */
export function envName(flag: string): string {
  return `BATCH_INFER_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** Every environment variable a flag reads, in priority order. */
export function envNames(flag: string, spec: OptionSpec): string[] {
  return [envName(flag), ...(spec.env ?? [])];
}

function fromText(flag: string, spec: OptionSpec, text: string, where: string): string | boolean | string[] {
  if (spec.type === 'string') return spec.multiple === true ? text.split(',').filter((s) => s !== '') : text;
  if (/^(1|true|yes)$/i.test(text)) return true;
  if (/^(0|false|no|)$/i.test(text)) return false;
  throw usageError(`${where} sets --${flag} to "${text}"; expected true or false`);
}

function readConfigFile(
  path: string,
  command: Command,
  options: Readonly<Record<string, OptionSpec>>,
): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw usageError(`--config ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw usageError(`--config ${path}: expected a JSON object of flag names`);
  for (const key of Object.keys(parsed)) {
    if (!(key in options)) {
      throw usageError(
        `--config ${path}: unknown key "${key}" for batch-infer ${command.name}; known: ${Object.keys(options).join(', ')}`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}

function fromConfig(
  flag: string,
  spec: OptionSpec,
  value: unknown,
  path: string,
): string | boolean | string[] {
  const where = `--config ${path}`;
  if (spec.type === 'boolean') {
    if (typeof value !== 'boolean')
      throw usageError(`${where}: "${flag}" must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }
  if (spec.multiple === true && Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return value;
  if (typeof value === 'string' || typeof value === 'number')
    return spec.multiple === true ? [String(value)] : String(value);
  throw usageError(`${where}: "${flag}" must be a string or number, got ${JSON.stringify(value)}`);
}

/**
 * Fills the flags the command line left unset from the environment, then the config file. `options` are the
 * command's own and the shared ones (log-flags.ts). A group of flags (OptionSpec.group) takes its values from
 * the first source that sets one of them.
 */
export function applyDefaults(
  command: Command,
  options: Readonly<Record<string, OptionSpec>>,
  values: FlagValues,
  env: NodeJS.ProcessEnv,
): FlagValues {
  const configPath = typeof values.config === 'string' ? values.config : env[envName('config')];
  const config = configPath === undefined ? {} : readConfigFile(configPath, command, options);
  // Sources by rank: 0 the command line, 1 the environment, 2 the config file.
  const found = new Map<string, { rank: number; value: string | boolean | string[] }>();
  for (const [flag, spec] of Object.entries(options)) {
    const given = values[flag];
    const variable = envNames(flag, spec).find((name) => env[name] !== undefined && env[name] !== '');
    if (given !== undefined) found.set(flag, { rank: 0, value: given });
    else if (variable !== undefined)
      found.set(flag, {
        rank: 1,
        value: fromText(flag, spec, env[variable] as string, `Environment variable ${variable}`),
      });
    else if (config[flag] !== undefined)
      found.set(flag, { rank: 2, value: fromConfig(flag, spec, config[flag], configPath as string) });
  }
  const groupRank = new Map<string, number>();
  for (const [flag, { rank, value }] of found) {
    const group = options[flag]?.group;
    if (group !== undefined && value !== false)
      groupRank.set(group, Math.min(groupRank.get(group) ?? rank, rank));
  }
  const result: FlagValues = { ...values };
  for (const [flag, { rank, value }] of found) {
    const group = options[flag]?.group;
    if (group === undefined || (groupRank.get(group) ?? rank) === rank) result[flag] = value;
  }
  return result;
}
