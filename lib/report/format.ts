/** How the report writes numbers, durations, shares and times: short, fixed, and the same in every section. */

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 — or an en dash for a value the run did not measure. */
export function count(n: number | null): string {
  return n === null ? '–' : INTEGER.format(n);
}

/** 850 ms, 2.4 s, 3 min 05 s. */
export function duration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** A share as a percentage: 0.0123 → 1.2 %. */
export function percent(share: number): string {
  const p = share * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p.toFixed(1)} %`;
}

/** A drift score or distance: three decimals, small values in exponent form rather than 0.000. */
export function score(x: number): string {
  return x !== 0 && Math.abs(x) < 0.001 ? x.toExponential(1) : x.toFixed(3);
}

/** 2026-11-27 00:40:40 UTC. */
export function timestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** 11-27 00:40, for chart axes. */
export function shortTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(5, 16).replace('T', ' ');
}
