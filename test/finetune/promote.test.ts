/**
 * Issue #9 acceptance, end to end with a real server (`batch-infer serve` on port 0) and the real CLI: a
 * champion/challenger `run` writes both predictions and the disagreement per class; `promote` refuses with a
 * clear message and exit 1 when a check fails, leaving the server as it was, and promotes v2 when the issue's
 * targets hold.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import type { ModelComparison } from '../../lib/core/compare.js';
import type { RunSummary } from '../../lib/pipeline.js';
import { runCli, serveCli } from '../cli/spawn-cli.js';
import { tempDir } from '../helpers.js';
import { load, served } from './admin-client.js';
import { writeHeldOutSets } from './labelled-sets.js';

const TOKEN = 'promote-token';

t.test('champion/challenger run, a refused promotion, then a promotion', async (t) => {
  const server = await serveCli(t, ['--admin-token', TOKEN]);
  const { url } = server;
  const dir = await tempDir(t);
  const { newYork, seattle } = await writeHeldOutSets(dir);
  // The first call names the champion; the second takes it from the server (metadata `properties.version`).
  const promote = (champion: string[], ...checks: string[]) =>
    runCli([
      'promote',
      '--url',
      url,
      '--version',
      '2',
      ...champion,
      '--admin-token',
      TOKEN,
      ...checks.flatMap((c) => ['--check', c]),
      '--report',
      join(dir, 'comparison.md'),
      '--report-json',
      join(dir, 'comparison.json'),
    ]);
  t.same(await served(url), { versions: ['1'], answers: '1' }, 'the server starts with v1 only');

  const refused = await promote(['--champion', '1'], `macro_f1:+0.5:${newYork}`, `accuracy:-0.02:${seattle}`);
  t.equal(refused.code, 1, refused.stderr);
  t.match(
    refused.stderr,
    /refused to promote weather v2: FAIL {2}new-york-2015 macro_f1: 0\.\d{4} → 0\.\d{4} \(Δ /,
  );
  t.match(refused.stdout, /### new-york-2015 \(365 rows\)[\s\S]*### seattle-2015 \(365 rows\)/);
  t.match(refused.stdout, /- pass {2}seattle-2015 accuracy/);
  t.match(
    refused.stdout,
    /Not promoted: a check failed\. weather v1 stays the default; v2 was unloaded again\./,
  );
  t.same(await served(url), { versions: ['1'], answers: '1' }, 'the server is as it was');

  // The champion/challenger run on its own, through the CLI, with v2 staged beside v1.
  t.equal(
    (await load(url, TOKEN, { version_policy: { specific: { versions: [1, 2] } }, default_version: 1 }))
      .status,
    200,
  );
  const output = join(dir, 'both.csv');
  const run = await runCli([
    'run',
    '-i',
    newYork,
    '-o',
    output,
    '--url',
    url,
    '--model-version',
    '1',
    '--shadow-version',
    '2',
  ]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /scored 365 rows, rejected 0; challenger v2 disagrees on \d+\.\d %/);
  const rows = parse(await readFile(output, 'utf8'));
  t.same((rows[0] as string[]).slice(-7), [
    'probability_sun',
    'challenger_prediction',
    'challenger_probability_drizzle',
    'challenger_probability_fog',
    'challenger_probability_rain',
    'challenger_probability_snow',
    'challenger_probability_sun',
  ]);
  const summary = JSON.parse(await readFile(join(dir, 'both.summary.json'), 'utf8')) as RunSummary;
  t.match(summary.shadow, { version: 2, rows: 365 });
  t.same(
    summary.shadow?.per_class.map((c) => c.label),
    ['drizzle', 'fog', 'rain', 'snow', 'sun'],
  );

  const promoted = await promote([], `macro_f1:+0.05:${newYork}`, `accuracy:-0.02:${seattle}`);
  t.equal(promoted.code, 0, promoted.stderr);
  t.match(promoted.stdout, /- pass {2}new-york-2015 macro_f1[\s\S]*- pass {2}seattle-2015 accuracy/);
  t.match(
    promoted.stdout,
    /Promoted weather v2: it now answers requests that name no version; v1 stays loaded/,
  );
  t.same(await served(url), { versions: ['1', '2'], answers: '2' }, 'v2 answers by default now');
  const comparison = JSON.parse(await readFile(join(dir, 'comparison.json'), 'utf8')) as ModelComparison;
  const nyF1 = comparison.sets[0]?.deltas.find((d) => d.metric === 'macro_f1');
  t.ok(nyF1 !== undefined && nyF1.delta >= 0.05, `New York macro-F1 Δ ${nyF1?.delta}`);
  t.match(
    await readFile(join(dir, 'comparison.md'), 'utf8'),
    /^## weather: v1 \(champion\) against v2 \(challenger\)/,
  );

  const usage = await runCli([
    'promote',
    '--url',
    url,
    '--version',
    '2',
    '--admin-token',
    TOKEN,
    '--check',
    'recall:0:x.csv',
  ]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--check must be <metric>:<min-delta>:<file>/);
});
