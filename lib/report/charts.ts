/**
 * Chart configurations as plain JSON for Chart.js (no callbacks: they travel in a data block and the page
 * script hands them to `new Chart`), the palette, and the page script itself.
 */
import type { ChartConfiguration, ChartDataset } from 'chart.js';
import { shortTime } from './format.js';
import type { NumberedRun } from './view.js';

export type ChartSpec = ChartConfiguration<'line'> | ChartConfiguration<'bar'>;

/** Status colours and series colours; the reference is always grey, the current run always blue. */
export const COLORS = {
  ok: '#1a7f37',
  warn: '#bf8700',
  bad: '#cf222e',
  current: '#0969da',
  reference: '#8c959f',
  accent: '#8250df',
  grid: '#e6e9ed',
  text: '#57606a',
} as const;

/** A run on a category axis: its number, then when it started. */
export function runLabels(runs: readonly NumberedRun[]): string[][] {
  return runs.map((r) => [`#${r.number}`, shortTime(r.record.timings.started_at)]);
}

/** A linear axis from zero with a title. */
export function valueAxis(title: string, max?: number) {
  return {
    beginAtZero: true,
    ...(max === undefined ? {} : { max }),
    title: { display: true, text: title },
    grid: { color: COLORS.grid },
  };
}

/** Runs or bins along x; labels are skipped rather than slanted when they do not fit. */
export const CATEGORY_AXIS = { grid: { display: false }, ticks: { maxRotation: 0 } };

/** A flat dashed line across every run: a threshold drawn as a series, so the legend names it. */
export function thresholdLine(label: string, value: number, points: number): ChartDataset<'line'> {
  return {
    label,
    data: new Array<number>(points).fill(value),
    borderColor: COLORS.bad,
    borderDash: [6, 4],
    borderWidth: 1.5,
    pointRadius: 0,
    fill: false,
  };
}

/**
 * The page script: reads the configurations from the `chart-specs` block and draws each on the canvas of the
 * same id. Animation is off, so a chart is drawn by the time its constructor returns (and a screenshot
 * never catches one half-way).
 */
export const CHART_SCRIPT = `(() => {
  const specs = JSON.parse(document.getElementById('chart-specs').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = '${COLORS.text}';
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  for (const [id, spec] of Object.entries(specs)) new Chart(document.getElementById(id), spec);
})();`;
