/**
 * A champion/challenger comparison (lib/core/compare.ts, issue #9): per labelled set, each figure of both
 * versions with its Δ, the Δ's paired bootstrap interval and whether it is beyond noise, then the per-class
 * figures and how the predictions moved. Everything is read from the comparison as computed — the "beyond
 * noise" judgement is its `beyond_noise`, not worked out again here — and written as its Markdown writes it
 * (`comparisonMarkdown`), so the page and the Markdown never disagree.
 */
import {
  fixed4,
  isImprovement as better,
  metricName,
  type MetricDelta,
  type ModelComparison,
  signed4,
  versionNames,
  type SetComparison,
} from '../../core/compare.js';
import { CATEGORY_AXIS, COLORS, valueAxis, type ChartSpec } from '../charts.js';
import { count, percent } from '../format.js';
import { EMPTY, html, type Html } from '../html.js';
import { badge, section, type Section, type Tone } from '../section.js';

type Names = ReturnType<typeof versionNames>;

/** "no", "yes, better" or "yes, worse", the Markdown's words; the colour says the same. */
function verdict(d: MetricDelta): Html {
  if (!d.beyond_noise) return badge('no', 'muted');
  return better(d) ? badge('yes, better', 'ok') : badge('yes, worse', 'bad');
}

/** Interval bars: green or red when the delta is beyond noise and better or worse, grey within noise. */
function tone(d: MetricDelta): Tone {
  if (!d.beyond_noise) return 'muted';
  return better(d) ? 'ok' : 'bad';
}

const interval = (d: MetricDelta): string => `[${signed4(d.interval[0])}, ${signed4(d.interval[1])}]`;

function figuresTable(set: SetComparison, names: Names, level: number): Html {
  const overall = set.deltas.filter((d) => !d.metric.startsWith('f1:'));
  return html`<div class="scroll">
    <table class="figures">
      <thead>
        <tr>
          <th>Metric</th>
          <th class="num">${names.champion}</th>
          <th class="num">${names.challenger}</th>
          <th class="num">Δ</th>
          <th class="num">${level} % interval of Δ</th>
          <th>Beyond noise</th>
        </tr>
      </thead>
      <tbody>
        ${overall.map(
          (d) =>
            html`<tr>
              <td>${metricName(d.metric)}</td>
              <td class="num">${fixed4(d.champion)}</td>
              <td class="num">${fixed4(d.challenger)}</td>
              <td class="num">${signed4(d.delta)}</td>
              <td class="num">${interval(d)}</td>
              <td>${verdict(d)}</td>
            </tr> `,
        )}
      </tbody>
    </table>
  </div>`;
}

function perClassTable(c: ModelComparison, set: SetComparison, names: Names, level: number): Html {
  const f1 = new Map(set.deltas.map((d) => [d.metric, d]));
  return html`<div class="scroll">
    <table class="per-class">
      <thead>
        <tr>
          <th>Class</th>
          <th class="num">Support</th>
          <th class="num">${names.champion} precision</th>
          <th class="num">${names.champion} recall</th>
          <th class="num">${names.challenger} precision</th>
          <th class="num">${names.challenger} recall</th>
          <th class="num">${names.champion} F1</th>
          <th class="num">${names.challenger} F1</th>
          <th class="num">Δ F1</th>
          <th class="num">${level} % interval of Δ</th>
          <th>Beyond noise</th>
        </tr>
      </thead>
      <tbody>
        ${c.labels.map((label, i) => {
          const a = set.champion.per_class[i];
          const b = set.challenger.per_class[i];
          const d = f1.get(`f1:${label}`);
          return html`<tr>
            <td><code>${label}</code></td>
            <td class="num">${count(a?.support ?? 0)}</td>
            <td class="num">${fixed4(a?.precision ?? 0)}</td>
            <td class="num">${fixed4(a?.recall ?? 0)}</td>
            <td class="num">${fixed4(b?.precision ?? 0)}</td>
            <td class="num">${fixed4(b?.recall ?? 0)}</td>
            <td class="num">${fixed4(a?.f1 ?? 0)}</td>
            <td class="num">${fixed4(b?.f1 ?? 0)}</td>
            ${
              d === undefined
                ? html`<td class="num">–</td>
                    <td class="num">–</td>
                    <td>–</td>`
                : html`<td class="num">${signed4(d.delta)}</td>
                    <td class="num">${interval(d)}</td>
                    <td>${verdict(d)}</td>`
            }
          </tr> `;
        })}
      </tbody>
    </table>
  </div>`;
}

/** Both confusions in one table, `v1 → v2` per cell; a cell that changed is in bold. */
function confusionTable(c: ModelComparison, set: SetComparison, names: Names): Html {
  return html`<div class="scroll">
    <table class="confusion">
      <thead>
        <tr>
          <th>True ↓ / predicted →</th>
          ${c.labels.map((l) => html`<th class="num"><code>${l}</code></th>`)}
        </tr>
      </thead>
      <tbody>
        ${c.labels.map(
          (label, i) =>
            html`<tr>
              <td><code>${label}</code></td>
              ${c.labels.map((_, j) => {
                const a = set.champion.confusion[i]?.[j] ?? 0;
                const b = set.challenger.confusion[i]?.[j] ?? 0;
                return html`<td class="num${a === b ? '' : ' changed'}">${count(a)} → ${count(b)}</td>`;
              })}
            </tr> `,
        )}
      </tbody>
    </table>
    <p class="note">
      Rows: the true label; columns: the predicted one, ${names.champion} → ${names.challenger}.
    </p>
  </div>`;
}

/** Accuracy and macro-F1 of both versions on every set, side by side. */
function headline(c: ModelComparison, names: Names): ChartSpec {
  const metrics = ['accuracy', 'macro_f1'] as const;
  const labels = c.sets.flatMap((s) => metrics.map((m) => [s.name, metricName(m)]));
  const values = (side: 'champion' | 'challenger'): number[] =>
    c.sets.flatMap((s) => metrics.map((m) => s[side][m]));
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: names.champion, data: values('champion'), backgroundColor: COLORS.reference },
        { label: names.challenger, data: values('challenger'), backgroundColor: COLORS.current },
      ],
    },
    options: { scales: { x: CATEGORY_AXIS, y: valueAxis('score', 1) } },
  };
}

const TONE_COLORS: Record<Tone, string> = {
  ok: COLORS.ok,
  bad: COLORS.bad,
  warn: COLORS.warn,
  muted: COLORS.reference,
};

/** Every delta of a set as a floating bar spanning its interval: a bar across 0 is within noise. */
function intervals(set: SetComparison): ChartSpec {
  return {
    type: 'bar',
    data: {
      labels: set.deltas.map((d) => metricName(d.metric)),
      datasets: [
        {
          label: 'interval of Δ',
          data: set.deltas.map((d): [number, number] => [d.interval[0], d.interval[1]]),
          backgroundColor: set.deltas.map((d) => TONE_COLORS[tone(d)]),
          minBarLength: 2,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: valueAxis('Δ'), y: CATEGORY_AXIS },
    },
  };
}

function setPart(c: ModelComparison, set: SetComparison, names: Names, level: number): Html {
  const d = set.disagreement;
  return html`<h3>${set.name} <span class="muted">(${count(set.rows)} rows)</span></h3>
    ${figuresTable(set, names, level)} ${perClassTable(c, set, names, level)} ${confusionTable(c, set, names)}
    <p class="note">
      ${names.champion} and ${names.challenger} disagree on ${count(d.disagreements)} of ${count(d.rows)} rows
      (${percent(d.rate)}).
    </p>`;
}

export const comparisonSection: Section = ({ view, chart }) => {
  const c = view.comparison;
  if (c === null) return EMPTY;
  const names = versionNames(c);
  const { resamples, confidence, seed } = c.bootstrap;
  const level = Math.round(100 * confidence);
  return section(
    'comparison',
    `${c.model}: ${names.champion} (champion) against ${names.challenger} (challenger)`,
    html`<p class="lead">
        Δ is ${names.challenger} − ${names.champion}. Intervals: paired bootstrap over rows,
        ${count(resamples)} resamples, ${level} % percentile, seed ${seed}; a Δ is beyond noise when its
        interval excludes 0. Macro-F1 averages the classes present in the truth or the predictions.
      </p>
      <div class="grid">
        ${chart(headline(c, names), {
          title: 'Accuracy and macro-F1',
          note: `Grey: ${names.champion}; blue: ${names.challenger}.`,
        })}
        ${c.sets.map((s) =>
          chart(intervals(s), {
            title: `${s.name}: ${level} % interval of each Δ`,
            note: 'A bar across 0 is within noise; green beyond it and better, red beyond it and worse.',
          }),
        )}
      </div>
      ${c.sets.map((s) => setPart(c, s, names, level))}`,
  );
};
