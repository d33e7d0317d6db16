import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { runCli, serveCli } from './spawn-cli.js';

const cli = runCli;

t.test('--version, --help and usage errors', async (t) => {
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  const version = await cli(['--version']);
  t.equal(version.code, 0);
  t.equal(version.stdout, `${pkg.version}\n`);
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(
    help.stdout,
    /Commands:\n {2}run .*\n {2}serve .*\n {2}evaluate .*\n {2}demo .*\n {2}report .*\n {2}promote /,
  );
  for (const command of ['run', 'serve', 'evaluate', 'demo', 'report', 'promote']) {
    const res = await cli([command, '--help']);
    t.equal(res.code, 0, `${command} --help exits 0`);
    t.match(res.stdout, new RegExp(`Usage: batch-infer ${command} \\[options\\][\\s\\S]*Examples:`));
  }
  const none = await cli([]);
  t.equal(none.code, 2);
  const unknown = await cli(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(
    unknown.stderr,
    /unknown command "frobnicate"; commands: run, serve, evaluate, demo, report, promote, inspect, profile\n/,
  );
  const flag = await cli(['run', '--bogus']);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /Unknown option '--bogus'[\s\S]*See: batch-infer run --help/);
  const timeout = await cli(['run', '-i', 'a.csv', '-o', 'b.csv', '--timeout', 'soon']);
  t.equal(timeout.code, 2);
  t.match(timeout.stderr, /--timeout must be a duration like 250ms, 2s or 1m, got "soon"/);
  const protocol = await cli(['run', '-i', 'a.csv', '-o', 'b.csv', '--protocol', 'grpc']);
  t.equal(protocol.code, 2);
  t.match(
    protocol.stderr,
    /--protocol must be one of v2-json, v2-binary, vertex, sagemaker, v2-grpc, local, got "grpc"/,
  );
});

t.test('run: stdin to stdout in a pipe; only CSV on stdout, logs on stderr', async (t) => {
  const input = (await readFile(WEATHER_CSV, 'utf8')).split('\n').slice(0, 51).join('\n') + '\n';
  const res = await cli(['run', '--input', '-', '--output', '-'], { stdin: input });
  t.equal(res.code, 0, res.stderr);
  const rows = parse(res.stdout);
  t.equal(rows.length, 51);
  t.equal(rows[0]?.[7], 'prediction');
  t.match(res.stderr, /"msg":"scored 50 rows, rejected 0"/);
});

t.test('run: a missing column exits 65 and writes nothing', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'in.csv'), 'date,wind\n2012-01-01,3\n');
  const res = await cli(['run', '-i', 'in.csv', '-o', 'out.csv'], { cwd: dir });
  t.equal(res.code, 65);
  t.match(res.stderr, /Input lacks column\(s\) the model needs: precipitation, temp_max, temp_min/);
});

t.test('run: a missing input file exits 1 with the path', async (t) => {
  const dir = await tempDir(t);
  const res = await cli(['run', '-i', 'nope.csv', '-o', 'out.csv'], { cwd: dir });
  t.equal(res.code, 1);
  t.match(res.stderr, /nope\.csv/);
});

t.test('serve answers on its port and stops on SIGTERM', async (t) => {
  const server = await serveCli(t);
  t.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
  t.match(server.stderr(), /shutting down/);
});

t.test('demo: serves, scores all 2,922 rows over HTTP, reports accuracy', async (t) => {
  const dir = await tempDir(t);
  const res = await cli(['demo', '--output-dir', dir]);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /rows {7}2922 read, 2922 scored, 0 rejected/);
  t.match(res.stdout, /accuracy {3}0\.\d{4} against the "weather" column/);
  const rows = parse(await readFile(join(dir, 'predictions.csv')));
  t.equal(rows.length, 2923);
});

t.test('evaluate: table and --json agree with the labels in the file', async (t) => {
  const dir = await tempDir(t);
  const lines = (await readFile(WEATHER_CSV, 'utf8')).trimEnd().split('\n');
  await writeFile(join(dir, 'labelled.csv'), [lines[0], ...lines.slice(1, 201)].join('\n') + '\n');
  const json = await cli(['evaluate', '--input', 'labelled.csv', '--json'], { cwd: dir });
  t.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as {
    rows: number;
    accuracy: number;
    confusion: number[][];
    target: string;
  };
  t.equal(report.rows, 200);
  t.equal(report.target, 'weather');
  t.equal(
    report.confusion.flat().reduce((a, b) => a + b, 0),
    200,
    'the confusion matrix counts every row',
  );
  const table = await cli(['evaluate', '-i', 'labelled.csv'], { cwd: dir });
  t.match(table.stdout, new RegExp(`accuracy {3}${report.accuracy.toFixed(4)}`));
  t.match(table.stdout, /confusion \(rows: true, columns: predicted\)/);
  const noInput = await cli(['evaluate'], { cwd: dir });
  t.equal(noInput.code, 2);
  t.match(noInput.stderr, /--input is required/);
});
