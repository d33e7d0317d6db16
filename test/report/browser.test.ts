/**
 * The report as a browser shows it: a real history from the built CLI (history-fixture.ts) and a real
 * comparison (`batch-infer evaluate --compare-version 2 --json` on the history's inputs), the real
 * `batch-infer report`, opened in headless Chromium from a file. Every chart must have drawn its data, and the
 * page must load nothing and log no error.
 */
import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelComparison } from '../../lib/core/compare.js';
import type { RunRecord } from '../../lib/monitoring/run-record.js';
import { startServer, tempDir } from '../helpers.js';
import { findChromium, launch, openFile, type OpenedPage } from './chromium.js';
import { cli, makeHistory, TEST_RUNS } from './history-fixture.js';

interface CanvasState {
  id: string;
  label: string | null;
  /** Chart.js has a chart on this canvas. */
  chart: boolean;
  width: number;
  height: number;
  /** Pixels not transparent. */
  painted: number;
  /** Pixels in one of the chart's own series colours: its data, drawn. */
  series: number;
}

/** Evaluated in the page (as text: this file is compiled without the DOM's types). */
const CANVASES = `[...document.querySelectorAll('canvas')].map((canvas) => {
  const chart = Chart.getChart(canvas);
  const colors = (chart?.data.datasets ?? [])
    .flatMap((d) => [d.backgroundColor, d.borderColor].flat())
    .filter((c) => typeof c === 'string' && /^#[0-9a-f]{6}$/i.test(c))
    .map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  let series = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    painted++;
    if (colors.some(([r, g, b]) => Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) <= 6)) series++;
  }
  return { id: canvas.id, label: canvas.getAttribute('aria-label'), chart: chart !== undefined, width: canvas.width, height: canvas.height, painted, series };
})`;

const chromium = await findChromium();

/** Every canvas of the page holds a chart that drew its series. */
async function drawn(t: Test, page: OpenedPage['page']): Promise<CanvasState[]> {
  const canvases = (await page.evaluate(CANVASES)) as CanvasState[];
  for (const c of canvases) {
    t.ok(c.chart && c.width > 0 && c.height > 0, `${c.label ?? c.id}: a chart with a size`);
    t.ok(c.series > 50, `${c.label ?? c.id}: its series drawn (${c.series} of ${c.painted} pixels)`);
  }
  return canvases;
}

t.test(
  'the report renders in headless Chromium: every chart drawn, no error, no request',
  chromium === undefined
    ? { skip: 'no Chromium found (install the Debian package chromium, or set CHROMIUM_PATH)' }
    : {},
  async (t) => {
    const dir = await tempDir(t);
    const url = await startServer(t);
    const history = await makeHistory(dir, url, TEST_RUNS);
    const records = (await readFile(history, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunRecord);
    const latest = records[records.length - 1];
    t.equal(records.length, TEST_RUNS.length, 'one record per run, the failed one included');
    t.equal(latest?.drift?.dataset_drift, true, 'New York rows drift');
    // v1 against v2 on the history's own inputs (makeHistory wrote them), as a user would compare them.
    const compare = [
      '-i',
      'ny-2015.csv',
      '-i',
      'seattle-2015.csv',
      '--model-version',
      '1',
      '--compare-version',
      '2',
    ];
    const evaluated = await cli(['evaluate', ...compare, '--json'], dir);
    t.equal(evaluated.code, 0, evaluated.code === 0 ? 'batch-infer evaluate exits 0' : evaluated.stderr);
    const comparison = JSON.parse(evaluated.stdout) as ModelComparison;
    await writeFile(join(dir, 'comparison.json'), evaluated.stdout);
    const report = join(dir, 'report.html');
    const made = await cli(
      ['report', '--history', history, '--comparison', 'comparison.json', '-o', report],
      dir,
    );
    t.equal(made.code, 0, made.code === 0 ? 'batch-infer report exits 0' : made.stderr);

    const browser = await launch(chromium as string);
    t.teardown(() => browser.close());
    const { page, requests, problems } = await openFile(browser, report);
    t.same(problems, [], 'no console error, page error, failed request or CSP violation');
    t.same(requests, [pathToFileURL(report).href], 'no request but the page itself');

    const canvases = await drawn(t, page);
    const features = latest?.drift?.features.length ?? 0;
    // Trends 4, stage timings 2, predicted labels 1, one distribution per feature; the comparison's headline
    // and one chart of intervals per set.
    const sets = comparison.sets.length;
    t.equal(sets, 2);
    t.equal(canvases.length, 7 + features + 1 + sets);
    t.same(
      canvases.slice(7 + features, 7 + features + 1 + sets).map((c) => c.label),
      ['Accuracy and macro-F1', ...comparison.sets.map((s) => `${s.name}: 95 % interval of each Δ`)],
      'the comparison charts, drawn',
    );
    const text = (await page.evaluate('document.body.innerText')) as string;
    t.match(text, /Run #5/);
    t.match(text, /BatchInferenceDataDrift/);
    const scores = (await page.evaluate(
      `[...document.querySelectorAll('#drift tbody tr')].map((tr) => Number(tr.cells[2].textContent))`,
    )) as number[];
    t.equal(scores.length, features);
    t.same(
      scores,
      [...scores].sort((a, b) => b - a),
      'drift table sorted by score',
    );
    const deltas = (await page.evaluate(
      `[...document.querySelectorAll('#comparison table.figures tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText))`,
    )) as string[][];
    const overall = comparison.sets.flatMap((s) => s.deltas.filter((d) => !d.metric.startsWith('f1:')));
    t.equal(deltas.length, overall.length, 'a row per figure and set');
    t.same(
      deltas.map((r) => r[5]),
      overall.map((d) =>
        d.beyond_noise ? (d.delta > 0 === d.higher_is_better ? 'yes, better' : 'yes, worse') : 'no',
      ),
      'each verdict as evaluate judged it',
    );
    t.same(problems, [], 'still no problem after drawing and reading back');

    // The comparison alone is a page of its own.
    const alone = join(dir, 'comparison.html');
    const made2 = await cli(['report', '--comparison', 'comparison.json', '-o', alone], dir);
    t.equal(made2.code, 0, made2.code === 0 ? 'a report of the comparison alone' : made2.stderr);
    const opened = await openFile(browser, alone);
    t.equal((await drawn(t, opened.page)).length, 1 + sets, 'only the comparison charts');
    t.same(opened.problems, [], 'no problem on the comparison alone');
    t.same(opened.requests, [pathToFileURL(alone).href], 'no request but the page itself');
  },
);
