import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelComparison } from '../../lib/core/compare.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { cli } from './history-fixture.js';
import { comparison, jsonl, record } from './records.js';

t.test('report --help', async (t) => {
  const help = await cli(['report', '--help'], process.cwd());
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: batch-infer report \[options\]/);
  t.match(help.stdout, /--history <file>[\s\S]*--output <file\|->[\s\S]*\(default: report\.html\)/);
  t.match(help.stdout, /--comparison <file>[\s\S]*compare-version <n> --json/);
  t.match(help.stdout, /--last <n>[\s\S]*\(default: 20\)/);
  t.match(help.stdout, /\$ batch-infer report --comparison comparison\.json/);
  const main = await cli(['--help'], process.cwd());
  t.match(main.stdout, /\n {2}report +Write a self-contained HTML report/);
});

t.test('usage errors exit 2 and point at --help', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'runs.jsonl'), jsonl([record(0)]));
  const cases: [string[], RegExp][] = [
    [[], /--history or --comparison is required/],
    [['--history', 'runs.jsonl', '--last', '0'], /--last must be an integer ≥ 1, got "0"/],
    [['--history', 'runs.jsonl', '--bogus'], /Unknown option '--bogus'/],
    [['--history', 'runs.jsonl', '-o', 'runs.jsonl'], /--output must not be the --history file/],
    [['--comparison', 'c.json', '-o', './c.json'], /--output must not be the --comparison file/],
    [
      ['--history', 'runs.jsonl', '--pipeline-name', 'nope'],
      /--pipeline-name "nope" has no runs in runs\.jsonl; it holds "nightly"/,
    ],
  ];
  for (const [args, message] of cases) {
    const res = await cli(['report', ...args], dir);
    t.equal(res.code, 2, args.join(' '));
    t.match(res.stderr, message);
    t.match(res.stderr, 'See: batch-infer report --help');
  }
});

t.test('a missing, empty or corrupt history exits 65 and says why', async (t) => {
  const dir = await tempDir(t);
  const missing = await cli(['report', '--history', 'runs.jsonl'], dir);
  t.equal(missing.code, 65);
  t.match(missing.stderr, /batch-infer report: no run history at runs\.jsonl/);
  await writeFile(join(dir, 'empty.jsonl'), '');
  const empty = await cli(['report', '--history', 'empty.jsonl'], dir);
  t.equal(empty.code, 65);
  t.match(empty.stderr, /empty\.jsonl holds no runs/);
  await writeFile(join(dir, 'bad.jsonl'), `${jsonl([record(0)])}{"status":"succeeded"}\n`);
  const bad = await cli(['report', '--history', 'bad.jsonl'], dir);
  t.equal(bad.code, 65);
  t.match(bad.stderr, /bad\.jsonl:2: not a run record: pipeline is not a string/);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

t.test(
  'writes the report to a file (directories made) or to stdout; the history from the environment',
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'runs.jsonl'), jsonl([record(0), record(1, { pipeline: 'other' }), record(2)]));
    const file = await cli(
      ['report', '--history', 'runs.jsonl', '-o', 'out/report.html', '--title', 'Nightly'],
      dir,
    );
    t.equal(file.code, 0, file.stderr);
    t.equal(file.stdout, '');
    t.match(file.stderr, /"msg":"wrote the report of 2 of 2 runs of nightly to out\/report\.html"/);
    const page = await readFile(join(dir, 'out', 'report.html'), 'utf8');
    t.match(page, /^<!doctype html>[\s\S]*<title>Nightly<\/title>[\s\S]*<\/html>\s*$/);
    const stdout = await cli(['report', '-o', '-', '--pipeline-name', 'other'], dir, {
      BATCH_INFER_HISTORY: 'runs.jsonl',
    });
    t.equal(stdout.code, 0, stdout.stderr);
    t.match(stdout.stdout, /^<!doctype html>[\s\S]*<h1>batch-infer: other<\/h1>[\s\S]*<\/html>\s*$/);
    t.equal(stdout.stderr, '', 'nothing logged: stdout is the report');
  },
);

/**
 * A real comparison from the built CLI: v1 against v2 of the bundled model on Seattle and New York 2015, as
 * `batch-infer evaluate --compare-version 2 --json` prints it.
 */
async function evaluateComparison(t: Test, dir: string): Promise<ModelComparison> {
  const [header = '', ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  for (const [file, prefix] of [
    ['ny-2015.csv', 'New York,2015-'],
    ['seattle-2015.csv', 'Seattle,2015-'],
  ] as const)
    await writeFile(join(dir, file), [header, ...rows.filter((r) => r.startsWith(prefix))].join('\n') + '\n');
  const inputs = ['-i', 'ny-2015.csv', '-i', 'seattle-2015.csv'];
  const args = [...inputs, '--model-version', '1', '--compare-version', '2'];
  const evaluated = await cli(['evaluate', ...args, '--json'], dir);
  t.equal(evaluated.code, 0, evaluated.stderr);
  await writeFile(join(dir, 'comparison.json'), evaluated.stdout);
  return JSON.parse(evaluated.stdout) as ModelComparison;
}

t.test('--comparison: the JSON of evaluate --compare-version, with a history or alone', async (t) => {
  const dir = await tempDir(t);
  const c = await evaluateComparison(t, dir);
  await writeFile(join(dir, 'runs.jsonl'), jsonl([record(0), record(1)]));

  const both = await cli(['report', '--history', 'runs.jsonl', '--comparison', 'comparison.json'], dir);
  t.equal(both.code, 0, both.stderr);
  t.match(
    both.stderr,
    /"msg":"wrote the report of 2 of 2 runs of nightly and the comparison of weather to report\.html"/,
  );
  const page = await readFile(join(dir, 'report.html'), 'utf8');
  t.match(page, /<h1>batch-infer: nightly<\/h1>[\s\S]*<section id="summary">/);
  const section = /<section id="comparison">([\s\S]*?)<\/section>/.exec(page)?.[1] ?? '';
  t.match(section, '<h2>weather: v1 (champion) against v2 (challenger)</h2>');
  t.same(
    [...section.matchAll(/<h3>([^<]*) </g)].map((m) => m[1]),
    ['ny-2015', 'seattle-2015'],
  );
  // Every Δ and its interval, as evaluate computed it, is on the page.
  for (const set of c.sets)
    for (const d of set.deltas) {
      const sign = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
      t.match(section, `[${sign(d.interval[0])}, ${sign(d.interval[1])}]`, `${set.name} ${d.metric}`);
    }

  const alone = await cli(['report', '--comparison', 'comparison.json', '-o', '-'], dir);
  t.equal(alone.code, 0, alone.stderr);
  t.equal(alone.stderr, '', 'nothing logged: stdout is the report');
  t.match(alone.stdout, /^<!doctype html>[\s\S]*<h1>batch-infer: weather v1 against v2<\/h1>/);
  t.notMatch(alone.stdout, '<section id="summary">', 'no run history, no run sections');
  t.match(alone.stdout, '<section id="comparison">');
});

t.test(
  'a missing comparison, or one that is not JSON or not a comparison, exits 65 and says why',
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'runs.jsonl'), jsonl([record(0)]));
    await writeFile(join(dir, 'notjson.json'), '# weather: v1 against v2\n');
    await writeFile(join(dir, 'history.json'), jsonl([record(0)]));
    const broken = comparison();
    Object.assign(broken.sets[0]?.deltas[1] ?? {}, { interval: null });
    await writeFile(join(dir, 'broken.json'), JSON.stringify(broken));
    const cases: [string, RegExp][] = [
      ['missing.json', /batch-infer report: no comparison at missing\.json: give --comparison the JSON/],
      ['notjson.json', /notjson\.json: not JSON \(.*\); --comparison reads the JSON `batch-infer evaluate/],
      ['history.json', /history\.json: not a model comparison: format is undefined, not 1/],
      ['broken.json', /broken\.json: not a model comparison: sets\[0\]\.deltas\[1\]\.interval is not a pair/],
    ];
    // With and without a history: the comparison is refused either way, before anything is written.
    for (const [i, [file, message]] of cases.entries()) {
      const history = i % 2 === 0 ? [] : ['--history', 'runs.jsonl'];
      const res = await cli(['report', ...history, '--comparison', file, '-o', 'out.html'], dir);
      t.equal(res.code, 65, `${file} ${history.join(' ')}`);
      t.match(res.stderr, message);
      t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
    }
    t.equal(
      await readFile(join(dir, 'out.html'), 'utf8').catch(() => 'absent'),
      'absent',
      'no report written',
    );
  },
);
