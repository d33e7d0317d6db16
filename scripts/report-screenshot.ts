/**
 * Makes docs/images/report.png, the report screenshot in docs/monitoring.md: a real run history (the built
 * CLI scoring the bundled data against a real model server, see test/report/history-fixture.ts), the real
 * `batch-infer report`, and headless Chromium; the page must open without a problem. Run after
 * `npm run build`: `tsx scripts/report-screenshot.ts`.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../bin/cli/listen.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { createModelServer } from '../server/index.js';
import { findChromium, launch, openFile } from '../test/report/chromium.js';
import { cli, makeHistory, type HistoryRun } from '../test/report/history-fixture.js';

const RUNS: readonly HistoryRun[] = [
  { input: 'weather.csv' },
  { input: 'weather.csv', protocol: 'v2-binary' },
  { input: 'seattle-2015.csv', protocol: 'v2-json' },
  { input: 'weather.csv', protocol: 'v2-json' },
  { input: 'gappy.csv', protocol: 'v2-binary' },
  { input: 'no-columns.csv' },
  { input: 'weather.csv', protocol: 'v2-binary' },
  { input: 'ny-2015.csv', protocol: 'v2-binary' },
];
const OUTPUT = join(PACKAGE_ROOT, 'docs', 'images', 'report.png');

const chromium = await findChromium();
if (chromium === undefined) throw new Error('no Chromium found: install the Debian package chromium');
const dir = await mkdtemp(join(tmpdir(), 'batch-infer-screenshot-'));
const server = createModelServer();
const listening = await listen(server, 0, '127.0.0.1');
const browser = await launch(chromium);
try {
  await server.loaded;
  const history = await makeHistory(dir, listening.url, RUNS);
  const report = join(dir, 'report.html');
  const made = await cli(
    ['report', '--history', history, '-o', report, '--title', 'Nightly weather scoring'],
    dir,
  );
  if (made.code !== 0) throw new Error(`batch-infer report exited ${made.code}: ${made.stderr}`);
  const { page, problems } = await openFile(browser, report, 1200);
  if (problems.length > 0) throw new Error(`the report has problems:\n${problems.join('\n')}`);
  // The top of the page (the latest run, its alerts, the trends): the whole page is ~4000 px and 500 KiB.
  const bottom = (await page.evaluate(
    `(() => { const s = document.getElementById('trends'); return s.offsetTop + s.offsetHeight + 16; })()`,
  )) as number;
  await page.screenshot({ path: OUTPUT, clip: { x: 0, y: 0, width: 1200, height: bottom } });
  console.log(`wrote ${OUTPUT} (${Math.round((await stat(OUTPUT)).size / 1024)} KiB)`);
} finally {
  await browser.close();
  await listening.close();
  await rm(dir, { recursive: true, force: true });
}
