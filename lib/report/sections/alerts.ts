/** The alerts the latest run fired (lib/core/trends.ts), with the rule, the value and its threshold. */
import type { Alert } from '../../core/trends.js';
import { html } from '../html.js';
import { badge, historySection, section, type Section, type Tone } from '../section.js';

const SEVERITY_TONE: Record<Alert['severity'], Tone> = { page: 'bad', ticket: 'warn', warning: 'muted' };

/** Ratios print as ratios, counts and rates as they are. */
function number(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

export const alertsSection: Section = historySection((view) => {
  const alerts = view.latest.record.alerts;
  const body =
    alerts.length === 0
      ? html`<p class="empty">No alert fired on this run.</p>`
      : html`<div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Severity</th>
                <th>Alert (Prometheus twin)</th>
                <th>Feature</th>
                <th class="num">Value</th>
                <th class="num">Threshold</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              ${alerts.map(
                (a) =>
                  html`<tr>
                    <td>${badge(a.severity, SEVERITY_TONE[a.severity])}</td>
                    <td><code>${a.alert}</code></td>
                    <td>${a.feature ?? '–'}</td>
                    <td class="num">${number(a.value)}</td>
                    <td class="num">${number(a.threshold)}</td>
                    <td>${a.message}</td>
                  </tr> `,
              )}
            </tbody>
          </table>
        </div>`;
  return section('alerts', 'Alerts', body);
});
