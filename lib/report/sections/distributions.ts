/** Each feature's distribution in the latest run against the reference, on the reference's quantile bins. */
import type { FeatureDrift } from '../../core/drift.js';
import { CATEGORY_AXIS, COLORS, valueAxis, type ChartSpec } from '../charts.js';
import { score } from '../format.js';
import { EMPTY, html } from '../html.js';
import { historySection, section, type Section } from '../section.js';
import { driftOf } from '../view.js';

const pct = (shares: readonly number[]): number[] => shares.map((s) => Math.round(s * 1000) / 10);

function distribution(f: FeatureDrift): ChartSpec {
  return {
    type: 'bar',
    data: {
      labels: f.reference.map((_, i) => String(i + 1)),
      datasets: [
        { label: 'reference', data: pct(f.reference), backgroundColor: COLORS.reference },
        { label: 'this run', data: pct(f.current), backgroundColor: COLORS.current },
      ],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: {
        x: { ...CATEGORY_AXIS, title: { display: true, text: 'reference quantile bin, low → high' } },
        y: valueAxis('% of rows'),
      },
    },
  };
}

export const distributionsSection: Section = historySection((view, { chart }) => {
  const features = driftOf(view.latest.record)?.features ?? [];
  if (features.length === 0) return EMPTY;
  return section(
    'distributions',
    'Feature distributions',
    html`<p class="note">
        Grey: the reference (training data); blue: this run. Each bar is the share of rows in one bin of the
        reference's quantiles, which hold about equal shares of the training data: a flat grey profile is
        expected, and a lopsided blue one is drift.
      </p>
      <div class="grid small">
        ${[...features]
          .sort((a, b) => b.score - a.score)
          .map((f) =>
            chart(distribution(f), { title: f.feature, note: `PSI ${score(f.score)} · ${f.level}` }),
          )}
      </div>`,
  );
});
