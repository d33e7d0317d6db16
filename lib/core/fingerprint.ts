/**
 * A config fingerprint: sha256 of the config as canonical JSON (keys sorted at every level), so two runs with
 * the same settings get the same fingerprint whatever order their options were written in.
 */
import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  return value;
}

export function fingerprint(config: object): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex');
}
