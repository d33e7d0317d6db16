/**
 * Option normalizing helpers: each checks one value and names the option and the value it got, so a mistake
 * reads ``Invalid option `batchSize`: expected an integer ≥ 1, got "10"``.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';

function invalid(name: string, expected: string, got: unknown): never {
  throw new BatchInferError(
    ErrorCodes.INVALID_OPTION,
    `Invalid option \`${name}\`: expected ${expected}, got ${show(got)}`,
    {
      context: { option: name },
    },
  );
}

/** Refuses keys that are not in `known` (typos would otherwise be silently ignored). */
export function refuseUnknownKeys(component: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new BatchInferError(
        ErrorCodes.INVALID_OPTION,
        `Unknown option \`${key}\` for ${component}; known options: ${known.join(', ')}`,
        {
          context: { option: key },
        },
      );
    }
  }
}

export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(
      name,
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
      value,
    );
  }
  return value;
}

export function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalid(name, `a number from ${min} to ${max}`, value);
  }
  return value;
}

export function stringOption(name: string, value: unknown, fallback: string): string;
export function stringOption(name: string, value: unknown, fallback?: undefined): string | undefined;
export function stringOption(name: string, value: unknown, fallback?: string): string | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') invalid(name, 'a non-empty string', value);
  return value;
}

export function choiceOption<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) invalid(name, `one of ${choices.join(', ')}`, value);
  return value as T;
}

export function signalOption(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) invalid(name, 'an AbortSignal', value);
  return value;
}

/** Refuses a missing required option; the value's own check comes after. */
export function requiredOption<T>(name: string, value: T | undefined): T {
  if (value === undefined) invalid(name, 'a value (the option is required)', value);
  return value;
}
