import t from 'tap';
import { createHash } from 'node:crypto';
import { comparisonMarkdown, type ModelComparison } from '../../lib/core/compare.js';
import { loadChartLibrary } from '../../lib/report/chart-library.js';
import { escapeHtml, html, jsonForScript } from '../../lib/report/html.js';
import { renderReport } from '../../lib/report/page.js';
import { reportView, type ReportOptions } from '../../lib/report/view.js';
import type { RunRecord } from '../../lib/monitoring/run-record.js';
import { comparison, drift, feature, record } from './records.js';

const library = await loadChartLibrary();
const OPTIONS: ReportOptions = { last: 20, generatedAt: new Date('2026-01-02T00:00:00Z') };

function render(history: RunRecord[], options: Partial<ReportOptions> = {}): string {
  return renderReport(reportView({ history }, { ...OPTIONS, ...options }), library);
}

/** The chart configurations the page script will draw, by canvas id. */
interface Spec {
  type: string;
  data: { labels: unknown[]; datasets: { label: string; data: unknown[]; backgroundColor: unknown }[] };
}

function specs(page: string): Record<string, Spec> {
  const json = /<script type="application\/json" id="chart-specs">([\s\S]*?)<\/script>/.exec(page)?.[1];
  return JSON.parse(json ?? 'null') as Record<string, Spec>;
}

/** The text of the section with this id. */
function section(page: string, id: string): string {
  return new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(page)?.[1] ?? '';
}

t.test('html escapes every interpolated value; markup made by html passes once', async (t) => {
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const inner = html`<b>${'<i>'}</b>`;
  t.equal(
    html`<p>${inner} ${['<', html`<br />`]} ${null}${undefined}${false}${0}</p>`.text,
    '<p><b>&lt;i&gt;</b> &lt;<br /> 0</p>',
  );
  t.equal(
    jsonForScript({ name: '</script><script>alert(1)</script>' }),
    '{"name":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>"}',
  );
  t.same(JSON.parse(jsonForScript({ a: '<!--' })), { a: '<!--' }, 'JSON.parse reads it back unchanged');
});

t.test('values from the data are escaped in markup, attributes and chart data', async (t) => {
  const evil = '<img src=x onerror=alert(1)>';
  const page = render(
    [
      record(0, {
        pipeline: `"><script>alert('pipeline')</script>`,
        inputs: [`/data/${evil}.csv`],
        model: { name: evil, version: 1 },
        status: 'failed',
        error: { code: 'BI_ERR_HTTP_STATUS', message: `server said ${evil}` },
        drift: drift([feature(evil, 0.4)], {
          prediction: { ...drift([]).prediction, current: { [evil]: 1 }, reference: { [evil]: 1 } },
        }),
        alerts: [
          {
            alert: 'BatchInferenceDataDrift',
            severity: 'ticket',
            value: 1,
            threshold: 0.5,
            message: evil,
            feature: evil,
          },
        ],
      }),
    ],
    { title: `Report </title><script>alert('title')</script>` },
  );
  t.notMatch(page, '<img src=x', 'no injected element anywhere');
  t.notMatch(page, '<script>alert(', 'no injected script');
  t.match(page, '&lt;img src=x onerror=alert(1)&gt;', 'shown as text');
  t.match(page, '<title>Report &lt;/title&gt;&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;</title>');
  t.equal((page.match(/<script/g) ?? []).length, 2, "only the page's own two script elements");
  const labels = Object.values(specs(page)).flatMap((s) => s.data.labels);
  t.ok(
    labels.includes(evil),
    'chart labels hold the raw text: Chart.js draws it on a canvas, never as markup',
  );
});

t.test('a strict Content-Security-Policy allows exactly the inline style and script, by hash', async (t) => {
  const page = render([record(0)]);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/
    .exec(page)?.[1]
    ?.replaceAll('&#39;', "'");
  t.ok(csp);
  const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
  const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
  const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  t.same(csp?.split('; '), [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "base-uri 'none'",
    "form-action 'none'",
  ]);
  t.match(script, /^\/\*!\n \* Chart\.js v4/, 'Chart.js inlined, its licence banner kept');
  t.notMatch(script, 'sourceMappingURL', 'no source map the page does not have');
  t.notMatch(page, /\b(src|href)="(?!#)/, 'no src or href but in-page anchors');
});

t.test('the drift table is sorted by score and shows each method and threshold', async (t) => {
  const features = [feature('a', 0.01), feature('b', 0.9), feature('c', 0.12, { missing_ratio: 0.2 })];
  const page = render([record(0, { drift: drift(features) })]);
  const table = section(page, 'drift');
  const order = [...table.matchAll(/<tr>\s*<td><code>(\w)<\/code><\/td>/g)].map((m) => m[1]);
  t.same(order, ['b', 'c', 'a']);
  t.match(
    table,
    /<code>b<\/code><\/td>\s*<td>psi<\/td>\s*<td class="num">0\.900<\/td>\s*<td class="num">0\.250<\/td>/,
  );
  t.match(table, /<td class="num over">20 %<\/td>/, 'a missing ratio over the quality rule is marked');
  const distributions = section(page, 'distributions');
  t.same(
    [...distributions.matchAll(/<figcaption>(\w)<\/figcaption>/g)].map((m) => m[1]),
    ['b', 'c', 'a'],
  );
});

t.test('a drift report without features, and a run without a profile', async (t) => {
  const empty = render([record(0, { drift: drift([]) })]);
  t.match(section(empty, 'drift'), 'The reference profile has no features.');
  t.notMatch(empty, '<section id="distributions">', 'no distributions to draw');
  const none = render([record(0, { drift: null })]);
  t.match(section(none, 'drift'), 'Not profiled');
  t.notMatch(none, '<section id="distributions">');
  t.match(section(none, 'trends'), 'No run here was profiled');
  t.match(section(none, 'summary'), 'not profiled');
  // A run that failed before reading a row compares empty bins with the reference: PSI ≈ 7 everywhere.
  const unread = render([
    record(0, {
      status: 'failed',
      drift: drift([feature('a', 7), feature('b', 7)], { rows: 0, low_sample: true }),
    }),
  ]);
  t.match(section(unread, 'drift'), 'Not profiled');
  t.notMatch(unread, '<section id="distributions">');
});

t.test('one run only: no baseline, every chart still drawn from one point', async (t) => {
  const page = render([record(0)]);
  t.match(section(page, 'summary'), 'no baseline yet');
  t.match(section(page, 'trends'), '<h2>Over the last 1 run</h2>');
  t.match(section(page, 'runs'), '#1');
  // 4 trend charts, 2 stage charts, predicted labels, 2 features.
  t.equal(Object.keys(specs(page)).length, 9);
  t.equal((page.match(/<canvas /g) ?? []).length, 9, 'a canvas for every configuration');
});

t.test('the latest run against the median of the successful runs before it', async (t) => {
  const history = [
    record(0, { throughput: { rows_per_s: 1000 } }),
    record(1, { throughput: { rows_per_s: 1200 } }),
    record(2, { status: 'failed', throughput: { rows_per_s: 10 } }),
    record(3, { throughput: { rows_per_s: 1100 } }),
    record(4, { throughput: { rows_per_s: 440 } }),
  ];
  const view = reportView({ history }, OPTIONS);
  t.same(view.history?.throughput, { value: 440, median: 1100 }, 'the failed run is not in the baseline');
  t.equal(view.history?.baselineRuns, 3);
  t.match(
    section(renderReport(view, library), 'summary'),
    /<span class="delta bad">↓ 60 %<\/span> vs median\s+1,100 rows\/s of 3 previous runs/,
  );
});

t.test('--last and several pipelines: runs keep their numbers, the others are named', async (t) => {
  const history = [
    record(0),
    record(1, { pipeline: 'other' }),
    record(2),
    record(3),
    record(4, { status: 'failed', error: { code: null, message: 'disk full' } }),
  ];
  const view = reportView({ history }, { ...OPTIONS, last: 2 });
  t.equal(view.history?.pipeline, 'nightly', "the latest run's pipeline");
  t.same(
    view.history?.runs.map((r) => r.number),
    [3, 4],
  );
  t.same(view.history?.otherPipelines, ['other']);
  const page = renderReport(view, library);
  t.match(page, '<h1>batch-infer: nightly</h1>');
  t.match(page, /other pipelines in this history:\s+<code>other<\/code>/);
  t.match(section(page, 'summary'), /<span class="badge bad">failed<\/span>[\s\S]*disk full/);
  t.same(specs(page)['chart-1']?.data.labels, [
    ['#3', '01-01 00:03'],
    ['#4', '01-01 00:04'],
  ]);
  t.same(
    reportView({ history }, { ...OPTIONS, pipeline: 'other' }).history?.runs.map((r) => r.record.pipeline),
    ['other'],
  );
  t.throws(() => reportView({ history }, { ...OPTIONS, pipeline: 'nope' }), RangeError);
  t.throws(() => reportView({}, OPTIONS), RangeError, 'neither a history nor a comparison');
});

t.test('runs scored in process have no client latency: a note instead of an empty chart', async (t) => {
  const local = {
    count: 0,
    p50_ms: null,
    p95_ms: null,
    p99_ms: null,
    retries: 0,
    by_outcome: { success: 0, error: 0, timeout: 0 },
  };
  const page = render([record(0, { requests: local }), record(1, { requests: local })]);
  t.match(section(page, 'trends'), 'No HTTP requests in these runs');
  t.match(section(page, 'summary'), 'scored in process');
  t.equal(Object.keys(specs(page)).length, 8);
});

t.test('alerts are listed with severity, value and threshold', async (t) => {
  const page = render([
    record(0, {
      alerts: [
        {
          alert: 'BatchInferenceRowFailureRatioHigh',
          severity: 'ticket',
          value: 0.025,
          threshold: 0.01,
          message: '125 invalid and 0 failed of 5000 rows',
        },
      ],
    }),
  ]);
  t.match(
    section(page, 'alerts'),
    /<span class="badge warn">ticket<\/span>[\s\S]*BatchInferenceRowFailureRatioHigh[\s\S]*0\.0250[\s\S]*0\.01[\s\S]*125 invalid/,
  );
  t.match(section(render([record(0)]), 'alerts'), 'No alert fired on this run.');
});

/** A page of a comparison, with or without a history. */
function renderComparison(c: ModelComparison, history?: RunRecord[]): string {
  return renderReport(
    reportView({ comparison: c, ...(history === undefined ? {} : { history }) }, OPTIONS),
    library,
  );
}

const ENTITY: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** Each table row of `markup` as its cells' text: tags dropped, entities read, spaces collapsed. */
function rows(markup: string): string[][] {
  return [...markup.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((tr) =>
    [...(tr[1] ?? '').matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((cell) =>
      (cell[1] ?? '')
        .replace(/<[^>]*>/g, '')
        .replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITY[e] ?? e)
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

/** The Markdown's table rows of each set, by set: its own tested rendering of the same comparison. */
function markdownRows(c: ModelComparison): Map<string, string[][]> {
  const bySet = new Map<string, string[][]>();
  for (const part of comparisonMarkdown(c).split(/^### /m).slice(1)) {
    const name = part.slice(0, part.indexOf(' ('));
    const lines = part.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('|-'));
    bySet.set(
      name,
      lines.map((l) =>
        l
          .slice(2, -2)
          .split(' | ')
          .map((x) => x.trim()),
      ),
    );
  }
  return bySet;
}

/** The part of the comparison section for each set, by name. */
function setParts(page: string): Map<string, string> {
  const parts = section(page, 'comparison').split('<h3>').slice(1);
  return new Map(parts.map((p) => [p.slice(0, p.indexOf(' <span')).trim(), p]));
}

t.test(
  'the comparison: every figure, Δ, interval and verdict of every set, as the Markdown has them',
  async (t) => {
    const c = comparison();
    const page = renderComparison(c, [record(0)]);
    const md = markdownRows(c);
    const parts = setParts(page);
    t.same([...parts.keys()], ['better', 'worse', 'same'], 'one part per set, in order');
    t.match(
      section(page, 'comparison'),
      /<h2>weather: v1 \(champion\) against v2 \(challenger\)<\/h2>[\s\S]*Δ is v2 − v1[\s\S]*200 resamples, 95 % percentile, seed 5/,
    );
    const verdicts = new Set<string>();
    for (const set of c.sets) {
      const part = parts.get(set.name) ?? '';
      const markdown = md.get(set.name) ?? [];
      const [figures = '', perClass = '', confusion = ''] = part.split('<table').slice(1);
      const figureRows = rows(figures);
      t.same(figureRows[0], ['Metric', 'v1', 'v2', 'Δ', '95 % interval of Δ', 'Beyond noise'], set.name);
      // Accuracy, macro-F1, log loss: the Markdown's rows cell for cell.
      const overall = set.deltas.filter((d) => !d.metric.startsWith('f1:'));
      t.equal(figureRows.length - 1, overall.length, `${set.name}: a row per figure`);
      t.same(
        figureRows.slice(1),
        markdown.slice(1, 1 + overall.length),
        `${set.name}: figures as in Markdown`,
      );
      // Read from the data itself too: the interval's ends and the judgement made by compareModels.
      for (const [i, d] of overall.entries()) {
        const row = figureRows[i + 1] ?? [];
        t.equal(Number(row[1]), Number(d.champion.toFixed(4)), `${set.name} ${d.metric} v1`);
        t.equal(Number(row[2]), Number(d.challenger.toFixed(4)), `${set.name} ${d.metric} v2`);
        const numbers = (row[4] ?? '')
          .replaceAll('−', '-')
          .match(/[-+][\d.]+/g)
          ?.map(Number);
        t.same(
          numbers,
          d.interval.map((x) => Number(x.toFixed(4))),
          `${set.name} ${d.metric} interval`,
        );
        t.equal(row[5]?.startsWith('yes'), d.beyond_noise, `${set.name} ${d.metric} beyond noise`);
        verdicts.add(row[5] ?? '');
      }
      // Per class: support, precision and recall from the Markdown's class table, F1 and its Δ from its F1 rows.
      const classRows = rows(perClass).slice(1);
      const markdownClasses = markdown.slice(
        1 + set.deltas.length + 1,
        1 + set.deltas.length + 1 + c.labels.length,
      );
      t.equal(classRows.length, c.labels.length, `${set.name}: a row per class`);
      for (const [i, label] of c.labels.entries()) {
        const row = classRows[i] ?? [];
        const f1 = markdown.find((r) => r[0] === `F1 ${label}`) ?? [];
        const m = markdownClasses[i] ?? [];
        t.same(row.slice(0, 6), m, `${set.name} ${label}: support, precision, recall`);
        t.same(row.slice(6), f1.slice(1), `${set.name} ${label}: F1 of both, Δ, interval, verdict`);
      }
      // Both confusions, v1 → v2 per cell.
      const cells = rows(confusion).slice(1);
      for (const [i, label] of c.labels.entries())
        t.same(
          cells[i],
          [
            label,
            ...c.labels.map(
              (_, j) => `${set.champion.confusion[i]?.[j]} → ${set.challenger.confusion[i]?.[j]}`,
            ),
          ],
          `${set.name}: confusion of ${label}`,
        );
      t.match(part, `disagree on ${set.disagreement.disagreements} of ${set.rows}`);
    }
    t.same([...verdicts].sort(), ['no', 'yes, better', 'yes, worse'], 'the fixture shows every verdict');
  },
);

t.test("the verdict is the comparison's own: beyond_noise is read, not recomputed", async (t) => {
  const c = comparison();
  const set = c.sets[0] as ModelComparison['sets'][number];
  const accuracy = set.deltas[0] as ModelComparison['sets'][number]['deltas'][number];
  t.equal(accuracy.beyond_noise, true);
  const edited: ModelComparison = {
    ...c,
    sets: [
      {
        ...set,
        deltas: [{ ...accuracy, beyond_noise: false, interval: [-0.5, 0.75] }, ...set.deltas.slice(1)],
      },
    ],
  };
  const row = rows(setParts(renderComparison(edited)).get(set.name) ?? '')[1];
  t.same(row?.slice(4), ['[−0.5000, +0.7500]', 'no']);
});

t.test("the comparison charts: accuracy and macro-F1 of both, and every Δ's interval per set", async (t) => {
  const c = comparison();
  const page = renderComparison(c, [record(0)]);
  const all = specs(page);
  t.equal(
    Object.keys(all).length,
    9 + 1 + c.sets.length,
    "the history's 9 charts, the headline, one per set",
  );
  const ids = [...section(page, 'comparison').matchAll(/<canvas id="([\w-]+)"/g)].map((m) => m[1] ?? '');
  const comparisonSpecs = ids.map((id) => all[id]);
  t.equal(comparisonSpecs.length, 1 + c.sets.length, 'the headline, one per set, in the section');
  const [headline, ...intervals] = comparisonSpecs;
  t.same(
    headline?.data.labels,
    c.sets.flatMap((s) => [
      [s.name, 'accuracy'],
      [s.name, 'macro-F1'],
    ]),
  );
  t.same(
    headline?.data.datasets.map((d) => [d.label, d.data]),
    [
      ['v1', c.sets.flatMap((s) => [s.champion.accuracy, s.champion.macro_f1])],
      ['v2', c.sets.flatMap((s) => [s.challenger.accuracy, s.challenger.macro_f1])],
    ],
  );
  for (const [i, set] of c.sets.entries()) {
    const spec = intervals[i];
    t.same(spec?.data.labels.length, set.deltas.length, set.name);
    t.same(
      spec?.data.datasets[0]?.data,
      set.deltas.map((d) => d.interval),
      `${set.name}: the intervals exactly`,
    );
    const colors = spec?.data.datasets[0]?.backgroundColor as string[];
    set.deltas.forEach((d, m) =>
      t.equal(colors[m] === '#8c959f', !d.beyond_noise, `${set.name} ${d.metric}: grey only within noise`),
    );
  }
});

t.test(
  'a report of a comparison alone: no history section, the comparison named in header and footer',
  async (t) => {
    const c = comparison();
    const page = renderComparison(c);
    t.match(page, '<title>batch-infer: weather v1 against v2</title>');
    t.match(
      page,
      /<h1>batch-infer: weather v1 against v2<\/h1>\s*<p>Comparison of model <code>weather<\/code>/,
    );
    t.match(page, /<footer>[\s\S]*from the comparison of model <code>weather<\/code>: v1 \(champion\)/);
    for (const id of ['summary', 'alerts', 'trends', 'stages', 'drift', 'distributions', 'runs'])
      t.notMatch(page, `<section id="${id}">`, `no ${id}`);
    t.match(page, '<section id="comparison">');
    t.equal(Object.keys(specs(page)).length, 1 + c.sets.length);
    t.equal((page.match(/<canvas /g) ?? []).length, 1 + c.sets.length);
    // Versions not known (a comparison made without naming them) are called champion and challenger.
    const unnamed = renderComparison({ ...c, champion: { version: null }, challenger: { version: null } });
    t.match(unnamed, '<title>batch-infer: weather champion against challenger</title>');
    t.notMatch(render([record(0)]), '<section id="comparison">', 'no comparison, no section');
  },
);

t.test('values of a comparison are escaped in markup and charts', async (t) => {
  const evil = '<img src=x onerror=alert(1)>';
  const c = comparison(
    ['rain', evil, 'sun'],
    [`"><script>alert('set')</script>`, 'worse', 'same'],
    `<b>${evil}`,
  );
  const page = renderComparison(c);
  t.notMatch(page, '<img src=x', 'no injected element anywhere');
  t.notMatch(page, '<script>alert(', 'no injected script');
  t.notMatch(page, '<b><img', 'no injected markup from the model name');
  t.match(page, '&lt;img src=x onerror=alert(1)&gt;', 'shown as text');
  t.equal((page.match(/<script/g) ?? []).length, 2, "only the page's own two script elements");
  const labels = Object.values(specs(page)).flatMap((s) => s.data.labels.flat());
  t.ok(labels.includes(`F1 ${evil}`), 'chart labels hold the raw text, drawn on a canvas');
});
