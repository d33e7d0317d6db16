/**
 * The report as a browser shows it: a real history from the built CLI (history-fixture.ts), the real
 * `batch-infer report`, opened in headless Chromium from a file. Every chart must have drawn its data, and the
 * page must load nothing and log no error.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunRecord } from '../../lib/monitoring/run-record.js';
import { startServer, tempDir } from '../helpers.js';
import { findChromium, launch, openFile } from './chromium.js';
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
    const report = join(dir, 'report.html');
    const made = await cli(['report', '--history', history, '-o', report], dir);
    t.equal(made.code, 0, made.code === 0 ? 'batch-infer report exits 0' : made.stderr);

    const browser = await launch(chromium as string);
    t.teardown(() => browser.close());
    const { page, requests, problems } = await openFile(browser, report);
    t.same(problems, [], 'no console error, page error, failed request or CSP violation');
    t.same(requests, [pathToFileURL(report).href], 'no request but the page itself');

    const canvases = (await page.evaluate(CANVASES)) as CanvasState[];
    const features = latest?.drift?.features.length ?? 0;
    // Trends 4, stage timings 2, predicted labels 1, one distribution per feature.
    t.equal(canvases.length, 7 + features);
    for (const c of canvases) {
      t.ok(c.chart && c.width > 0 && c.height > 0, `${c.label ?? c.id}: a chart with a size`);
      t.ok(c.series > 50, `${c.label ?? c.id}: its series drawn (${c.series} of ${c.painted} pixels)`);
    }
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
    t.same(problems, [], 'still no problem after drawing and reading back');
  },
);
