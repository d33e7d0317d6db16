/** The runs over time: throughput and duration, client latency, rows by outcome, drifted share. */
import { DATASET_DRIFT_SHARE } from '../../core/drift.js';
import { CATEGORY_AXIS, COLORS, runLabels, thresholdLine, valueAxis, type ChartSpec } from '../charts.js';
import { html } from '../html.js';
import { historySection, section, type Section } from '../section.js';
import { driftOf, type NumberedRun } from '../view.js';
import type { RunRecord } from '../../monitoring/run-record.js';

/** Percentage of features drifted, null for a run without a profile. */
function drifted(run: RunRecord): number | null {
  const drift = driftOf(run);
  return drift === null ? null : Math.round(drift.drifted_features_ratio * 1000) / 10;
}

/** Failed runs stand out as red points on every line. */
function pointColors(runs: readonly NumberedRun[], color: string): string[] {
  return runs.map((r) => (r.record.status === 'failed' ? COLORS.bad : color));
}

function throughput(runs: readonly NumberedRun[]): ChartSpec {
  return {
    type: 'line',
    data: {
      labels: runLabels(runs),
      datasets: [
        {
          label: 'rows/s',
          data: runs.map((r) => r.record.throughput.rows_per_s),
          borderColor: COLORS.current,
          backgroundColor: COLORS.current,
          pointBackgroundColor: pointColors(runs, COLORS.current),
          pointBorderColor: pointColors(runs, COLORS.current),
          pointRadius: 4,
        },
        {
          label: 'duration (s)',
          data: runs.map((r) => r.record.timings.duration_ms / 1000),
          borderColor: COLORS.accent,
          backgroundColor: COLORS.accent,
          pointRadius: 3,
          yAxisID: 'seconds',
        },
      ],
    },
    options: {
      scales: {
        x: CATEGORY_AXIS,
        y: valueAxis('rows per second'),
        seconds: { ...valueAxis('seconds'), position: 'right', grid: { display: false } },
      },
    },
  };
}

function latency(runs: readonly NumberedRun[]): ChartSpec {
  const series = [
    ['p50', 'p50_ms', COLORS.ok],
    ['p95', 'p95_ms', COLORS.current],
    ['p99', 'p99_ms', COLORS.accent],
  ] as const;
  return {
    type: 'line',
    data: {
      labels: runLabels(runs),
      datasets: series.map(([label, key, color]) => ({
        label,
        data: runs.map((r) => r.record.requests[key]),
        borderColor: color,
        backgroundColor: color,
        pointRadius: 3,
      })),
    },
    options: { scales: { x: CATEGORY_AXIS, y: valueAxis('milliseconds per request') } },
  };
}

function outcomes(runs: readonly NumberedRun[]): ChartSpec {
  const series = [
    ['ok', 'ok', COLORS.ok],
    ['invalid', 'invalid', COLORS.warn],
    ['failed', 'failed', COLORS.bad],
  ] as const;
  return {
    type: 'bar',
    data: {
      labels: runLabels(runs),
      datasets: series.map(([label, key, color]) => ({
        label,
        data: runs.map((r) => r.record.rows[key]),
        backgroundColor: color,
        stack: 'rows',
      })),
    },
    options: {
      scales: { x: { ...CATEGORY_AXIS, stacked: true }, y: { ...valueAxis('rows'), stacked: true } },
    },
  };
}

function driftShare(runs: readonly NumberedRun[]): ChartSpec {
  return {
    type: 'line',
    data: {
      labels: runLabels(runs),
      datasets: [
        {
          label: 'features drifted (%)',
          data: runs.map((r) => drifted(r.record)),
          borderColor: COLORS.current,
          backgroundColor: COLORS.current,
          pointBackgroundColor: runs.map((r) =>
            driftOf(r.record)?.dataset_drift === true ? COLORS.bad : COLORS.current,
          ),
          pointRadius: 4,
        },
        thresholdLine('dataset drift threshold', DATASET_DRIFT_SHARE * 100, runs.length),
      ],
    },
    options: { scales: { x: CATEGORY_AXIS, y: valueAxis('% of features drifted', 100) } },
  };
}

export const trendsSection: Section = historySection((view, { chart }) => {
  const runs = view.runs;
  const measured = runs.some((r) => r.record.requests.p95_ms !== null);
  const profiled = runs.some((r) => driftOf(r.record) !== null);
  return section(
    'trends',
    `Over the last ${runs.length} run${runs.length === 1 ? '' : 's'}`,
    html`<div class="grid">
      ${chart(throughput(runs), { title: 'Throughput and duration', note: 'Red points are failed runs.' })}
      ${
        measured
          ? chart(latency(runs), {
              title: 'Client latency per request',
              note: 'Each HTTP attempt as the pipeline saw it; gaps are in-process runs.',
            })
          : html`<figure class="chart placeholder">
              <figcaption>Client latency per request</figcaption>
              <p class="empty">
                No HTTP requests in these runs: in-process scoring (<code>--protocol local</code>) has no
                client latency.
              </p>
            </figure>`
      }
      ${chart(outcomes(runs), { title: 'Rows by outcome', note: 'ok: scored; invalid: rejected; failed: read but neither.' })}
      ${
        profiled
          ? chart(driftShare(runs), {
              title: 'Drifted features',
              note: 'Dataset drift when the share reaches the dashed line; red points drifted.',
            })
          : html`<figure class="chart placeholder">
              <figcaption>Drifted features</figcaption>
              <p class="empty">
                No run here was profiled: the model has no reference profile, or no row was read.
              </p>
            </figure>`
      }
    </div>`,
  );
});
