import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { cli } from './history-fixture.js';
import { jsonl, record } from './records.js';

t.test('report --help', async (t) => {
  const help = await cli(['report', '--help'], process.cwd());
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: batch-infer report \[options\]/);
  t.match(help.stdout, /--history <file>[\s\S]*--output <file\|->[\s\S]*\(default: report\.html\)/);
  t.match(help.stdout, /--last <n>[\s\S]*\(default: 20\)/);
  const main = await cli(['--help'], process.cwd());
  t.match(main.stdout, /\n {2}report +Write a self-contained HTML report/);
});

t.test('usage errors exit 2 and point at --help', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'runs.jsonl'), jsonl([record(0)]));
  const cases: [string[], RegExp][] = [
    [[], /--history is required/],
    [['--history', 'runs.jsonl', '--last', '0'], /--last must be an integer ≥ 1, got "0"/],
    [['--history', 'runs.jsonl', '--bogus'], /Unknown option '--bogus'/],
    [['--history', 'runs.jsonl', '-o', 'runs.jsonl'], /--output must not be the --history file/],
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
