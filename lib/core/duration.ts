/** Durations as users write them: `250ms`, `2s`, `1m`, `1h`; a bare number is milliseconds. */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration text, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
