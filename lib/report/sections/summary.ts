/** The latest run at a glance: status, rows, time, throughput and latency against the baseline, drift, alerts. */
import { ROBUST_FLOOR } from '../../core/trends.js';
import { count, duration, percent, timestamp } from '../format.js';
import { EMPTY, html, type Html } from '../html.js';
import { badge, historySection, section, toneOf, type Section, type Tone } from '../section.js';
import type { RunRecord } from '../../monitoring/run-record.js';
import { driftOf, type Comparison, type HistoryView } from '../view.js';

function card(label: string, value: Html | string, detail: Html | string = EMPTY): Html {
  return html`<div class="card">
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    <div class="detail">${detail}</div>
  </div>`;
}

/**
 * The change against the baseline median, with an arrow; coloured when it is larger than the trend rules'
 * 20 % floor, green in the good direction and red in the bad one.
 */
function delta(c: Comparison, higherIsBetter: boolean, unit: (n: number) => string, runs: number): Html {
  if (c.value === null || c.median === null || c.median === 0) return html`no baseline yet`;
  const change = (c.value - c.median) / c.median;
  const arrow = change > 0 ? '↑' : change < 0 ? '↓' : '→';
  const better = change > 0 === higherIsBetter;
  const tone: Tone = Math.abs(change) <= ROBUST_FLOOR ? 'muted' : better ? 'ok' : 'bad';
  return html`<span class="delta ${tone}">${arrow} ${percent(Math.abs(change))}</span> vs median
    ${unit(c.median)} of ${runs} previous run${runs === 1 ? '' : 's'}`;
}

function requestsCard(requests: RunRecord['requests']): Html {
  if (requests.count === 0) return card('HTTP requests', count(0), 'scored in process');
  const { error, timeout } = requests.by_outcome;
  return card(
    'HTTP requests',
    count(requests.count),
    html`${count(requests.retries)} retried · ${count(error)} errors · ${count(timeout)} timeouts`,
  );
}

function driftCard(view: HistoryView): Html {
  const drift = driftOf(view.latest.record);
  if (drift === null)
    return card(
      'Drift',
      html`<span class="muted">not profiled</span>`,
      'no reference profile, or no row read',
    );
  const drifted = drift.features.filter((f) => f.drifted).length;
  return card(
    'Dataset drift',
    drift.dataset_drift ? badge('drift', 'bad') : badge('no drift', 'ok'),
    html`${drifted} of ${drift.features.length} features
    drifted${drift.low_sample ? html` · <span class="warn-text">low sample (${count(drift.rows)} rows)</span>` : EMPTY}`,
  );
}

export const summarySection: Section = historySection((view) => {
  const run = view.latest.record;
  const rows = run.rows;
  const n = view.baselineRuns;
  const rate = (x: number): string => `${count(x)} rows/s`;
  return section(
    'summary',
    `Run #${view.latest.number}`,
    html`<div class="cards">
        ${card(
          'Status',
          badge(run.status, toneOf(run.status)),
          run.error === undefined
            ? `started ${timestamp(run.timings.started_at)}`
            : html`<code>${run.error.code ?? 'error'}</code> ${run.error.message}`,
        )}
        ${card('Rows read', count(rows.read), html`${count(rows.ok)} ok · ${count(rows.invalid)} invalid · ${count(rows.failed)} failed`)}
        ${card('Duration', duration(run.timings.duration_ms), delta(view.duration, false, duration, n))}
        ${card('Throughput', rate(run.throughput.rows_per_s), delta(view.throughput, true, rate, n))}
        ${card(
          'Client latency p95',
          duration(run.requests.p95_ms),
          run.requests.count === 0 ? 'no HTTP requests' : delta(view.p95, false, duration, n),
        )}
        ${requestsCard(run.requests)} ${driftCard(view)}
        ${card('Alerts', count(run.alerts.length), run.alerts.length === 0 ? 'none fired' : html`<a href="#alerts">see below</a>`)}
      </div>
      <p class="inputs">
        Inputs: ${run.inputs.map((input, i) => html`${i === 0 ? EMPTY : ', '}<code>${input}</code>`)}
      </p>`,
  );
});
