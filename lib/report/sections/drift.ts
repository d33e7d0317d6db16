/**
 * Drift and data quality of the latest run: the per-feature table sorted by score with each method and
 * threshold beside its score (research §8.4: users ask how a feature was judged), then prediction drift.
 */
import {
  DATASET_DRIFT_SHARE,
  JS_DRIFT,
  MIN_SAMPLE,
  PSI_DRIFT,
  PSI_WARN,
  type DriftReport,
  type FeatureDrift,
} from '../../core/drift.js';
import { MISSING_RATIO, OUT_OF_RANGE_RATIO } from '../../core/trends.js';
import { CATEGORY_AXIS, COLORS, valueAxis, type ChartSpec } from '../charts.js';
import { count, percent, score } from '../format.js';
import { EMPTY, html, type Html } from '../html.js';
import { badge, historySection, section, toneOf, type Section } from '../section.js';
import { driftOf } from '../view.js';

/** A ratio cell, marked when it is over the data-quality rule's threshold. */
function ratio(value: number, limit: number): Html {
  return html`<td class="num${value > limit ? ' over' : ''}">${percent(value)}</td>`;
}

function row(f: FeatureDrift): Html {
  return html`<tr>
    <td><code>${f.feature}</code></td>
    <td>${f.method}</td>
    <td class="num">${score(f.score)}</td>
    <td class="num">${score(f.threshold)}</td>
    <td>${badge(f.level, toneOf(f.level))}</td>
    <td class="num${f.js_distance >= f.js_threshold ? ' over' : ''}">${score(f.js_distance)}</td>
    <td class="num">${score(f.js_threshold)}</td>
    ${ratio(f.missing_ratio, MISSING_RATIO)}${ratio(f.out_of_range_ratio, OUT_OF_RANGE_RATIO)}
  </tr> `;
}

function table(features: readonly FeatureDrift[]): Html {
  if (features.length === 0) return html`<p class="empty">The reference profile has no features.</p>`;
  const sorted = [...features].sort((a, b) => b.score - a.score);
  return html`<div class="scroll">
      <table>
        <thead>
          <tr>
            <th>Feature</th>
            <th>Method</th>
            <th class="num">Score</th>
            <th class="num">Threshold</th>
            <th>Level</th>
            <th class="num">JS distance</th>
            <th class="num">JS threshold</th>
            <th class="num">Missing</th>
            <th class="num">Out of range</th>
          </tr>
        </thead>
        <tbody>
          ${sorted.map(row)}
        </tbody>
      </table>
    </div>
    <p class="note">
      PSI on the reference's quantile bins: ok &lt; ${PSI_WARN} ≤ warn &lt; ${PSI_DRIFT} ≤ drift.
      Jensen-Shannon distance (base 2) on the same bins: drift from ${JS_DRIFT}. Marked ratios are over the
      data-quality rules: missing &gt; ${percent(MISSING_RATIO)}, out of the reference range &gt;
      ${percent(OUT_OF_RANGE_RATIO)}.
    </p>`;
}

function predictions(drift: DriftReport): ChartSpec {
  const labels = Object.keys(drift.prediction.reference);
  const shares = (from: Record<string, number>): number[] =>
    labels.map((l) => Math.round((from[l] ?? 0) * 1000) / 10);
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'reference', data: shares(drift.prediction.reference), backgroundColor: COLORS.reference },
        { label: 'this run', data: shares(drift.prediction.current), backgroundColor: COLORS.current },
      ],
    },
    options: { scales: { x: CATEGORY_AXIS, y: valueAxis('% of rows') } },
  };
}

export const driftSection: Section = historySection((view, { chart }) => {
  const drift = driftOf(view.latest.record);
  if (drift === null)
    return section(
      'drift',
      'Drift and data quality',
      html`<p class="empty">
        Not profiled: the model's contract has no reference profile, or the run failed before it read a row.
        Drift and data quality were not measured.
      </p>`,
    );
  const drifted = drift.features.filter((f) => f.drifted).length;
  const p = drift.prediction;
  return section(
    'drift',
    'Drift and data quality',
    html`<p class="lead">
        Dataset drift: ${drift.dataset_drift ? badge('yes', 'bad') : badge('no', 'ok')} ${drifted} of
        ${drift.features.length} features (${percent(drift.drifted_features_ratio)}) drifted; the dataset
        drifts from ${percent(DATASET_DRIFT_SHARE)}. Prediction drift: ${badge(p.level, toneOf(p.level))}
        ${p.method.toUpperCase()} ${score(p.score)} (threshold ${score(p.threshold)}).
      </p>
      ${drift.low_sample ? html`<p class="warn-text">Low sample: ${count(drift.rows)} rows profiled, fewer than ${count(MIN_SAMPLE)}. Bin-based scores are noisy there, so these results only warn.</p>` : EMPTY}
      ${table(drift.features)}
      <div class="grid">
        ${chart(predictions(drift), { title: 'Predicted labels', note: `${p.method.toUpperCase()} ${score(p.score)}: the share of each predicted label, training data against this run.` })}
      </div>`,
  );
});
