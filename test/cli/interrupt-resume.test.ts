import t from 'tap';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { runCli } from './spawn-cli.js';

/** Runs the CLI; with `interruptAfterMs`, sends SIGINT that long after the first progress line. */
function run(args: string[], cwd: string, interruptAfterMs?: number) {
  let armed = interruptAfterMs !== undefined;
  return runCli(args, {
    cwd,
    onStderr: (stderr, child) => {
      // Interrupt only once the run has made progress, so there is something to resume.
      if (armed && stderr.includes('"msg":"progress"')) {
        armed = false;
        setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
      }
    },
  });
}

t.test('Ctrl-C mid-run exits 130, commits no output, and --resume finishes it byte for byte', async (t) => {
  const dir = await tempDir(t);
  const lines = (await readFile(WEATHER_CSV, 'utf8')).trimEnd().split('\n');
  const body = lines.slice(1);
  await writeFile(
    join(dir, 'in.csv'),
    [lines[0], ...Array.from({ length: 20 }, () => body).flat()].join('\n') + '\n',
  );
  const args = (output: string) => [
    'run',
    '-i',
    'in.csv',
    '-o',
    output,
    '--batch-size',
    '64',
    '--concurrency',
    '1',
    '--progress-interval',
    '100ms',
  ];
  const tail = (text: string) => text.slice(-500);

  const whole = await run(args('whole.csv'), dir);
  if (whole.code !== 0) t.comment(tail(whole.stderr));
  t.equal(whole.code, 0, 'an uninterrupted run exits 0');

  const first = await run([...args('out.csv'), '--resume'], dir, 300);
  t.equal(first.code, 130, 'interrupted run exits 130');
  t.match(first.stderr, /stopped \(received SIGINT\); no partial output was committed/);
  await t.rejects(access(join(dir, 'out.csv')), 'no output file after the interrupt');
  await access(join(dir, 'out.csv.journal'));

  const second = await run([...args('out.csv'), '--resume'], dir);
  if (second.code !== 0) t.comment(tail(second.stderr));
  t.equal(second.code, 0, 'the resumed run exits 0');
  t.ok(
    (await readFile(join(dir, 'out.csv'))).equals(await readFile(join(dir, 'whole.csv'))),
    'resumed output equals an uninterrupted run',
  );
});
