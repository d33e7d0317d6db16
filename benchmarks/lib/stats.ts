/** Summary statistics, machine info and the printed table. */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { median } from '../../lib/core/trends.js';

export interface Measurement {
  figure: string;
  variant: string;
  metric: string;
  unit: string;
  samples: number[];
  median: number;
  min: number;
  max: number;
  note?: string;
}

export { median };

export function measurement(
  figure: string,
  variant: string,
  metric: string,
  unit: string,
  samples: readonly number[],
  note?: string,
): Measurement {
  return {
    figure,
    variant,
    metric,
    unit,
    samples: [...samples],
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    ...(note === undefined ? {} : { note }),
  };
}

export interface MachineInfo {
  cores: number;
  cpu_model: string;
  node: string;
  platform: string;
  arch: string;
  total_memory_mib: number;
}

export function machineInfo(): MachineInfo {
  return {
    cores: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    total_memory_mib: Math.round(totalmem() / 2 ** 20),
  };
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'ratio') return `${(value * 100).toFixed(1)} %`;
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A plain-text table: figure, variant, metric, median and min–max over the samples. */
export function formatTable(rows: readonly Measurement[]): string {
  const cells = rows.map((m) => [
    m.figure,
    m.variant,
    `${m.metric}${m.unit === 'ratio' ? '' : ` (${m.unit})`}`,
    fmt(m.median, m.unit),
    m.samples.length > 1 ? `${fmt(m.min, m.unit)} – ${fmt(m.max, m.unit)}` : '',
    String(m.samples.length),
  ]);
  const header = ['figure', 'variant', 'metric', 'median', 'min – max', 'n'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c.map((v, i) => (i >= 3 && i <= 5 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
