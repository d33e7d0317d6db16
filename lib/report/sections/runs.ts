/** Every run of the window as a row, newest first: the numbers behind the trend charts. */
import { count, duration, percent, timestamp } from '../format.js';
import { html, type Html } from '../html.js';
import { badge, historySection, section, toneOf, type Section } from '../section.js';
import { driftOf, type NumberedRun } from '../view.js';

function row({ number, record: r }: NumberedRun): Html {
  const drift = driftOf(r);
  return html`<tr>
    <td class="num">#${number}</td>
    <td>${timestamp(r.timings.started_at)}</td>
    <td>
      ${badge(r.status, toneOf(r.status))}${r.error === undefined ? '' : html` <code>${r.error.code ?? 'error'}</code>`}
    </td>
    <td>${r.model.name}${r.model.version === null ? '' : ` v${r.model.version}`}</td>
    <td class="num">${count(r.rows.read)}</td>
    <td class="num">${count(r.rows.ok)}</td>
    <td class="num">${count(r.rows.invalid)}</td>
    <td class="num">${count(r.rows.failed)}</td>
    <td class="num">${duration(r.timings.duration_ms)}</td>
    <td class="num">${count(r.throughput.rows_per_s)}</td>
    <td class="num">${duration(r.requests.p95_ms)}</td>
    <td class="num">${drift === null ? '–' : percent(drift.drifted_features_ratio)}</td>
    <td class="num">${r.alerts.length}</td>
  </tr> `;
}

export const runsSection: Section = historySection((view) =>
  section(
    'runs',
    'Runs',
    html`<div class="scroll">
      <table>
        <thead>
          <tr>
            <th class="num">Run</th>
            <th>Started</th>
            <th>Status</th>
            <th>Model</th>
            <th class="num">Read</th>
            <th class="num">Ok</th>
            <th class="num">Invalid</th>
            <th class="num">Failed</th>
            <th class="num">Duration</th>
            <th class="num">Rows/s</th>
            <th class="num">p95</th>
            <th class="num">Drifted</th>
            <th class="num">Alerts</th>
          </tr>
        </thead>
        <tbody>
          ${[...view.runs].reverse().map(row)}
        </tbody>
      </table>
    </div>`,
  ),
);
