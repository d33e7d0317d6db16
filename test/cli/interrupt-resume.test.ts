/**
 * Ctrl-C mid-run (SIGINT): exit 130, no output committed, and `--resume` finishes the run byte for byte.
 *
 * "Mid-run" is made certain rather than likely: the interrupted run reads its input from a named pipe that the
 * test feeds and never closes, so the run cannot finish before the interrupt, and the interrupt comes once the
 * run has committed a checkpoint, so there is something to resume. (A SIGINT sent 300 ms after the first
 * progress line came after the end of the run on a fast enough machine; issue #20.) The resumed run reads the
 * same rows from a plain file at the same path.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { spawnCli, runCli } from './spawn-cli.js';

/** Rows per write into the pipe, and the pause between writes: the input lasts seconds, however fast the run. */
const CHUNK_ROWS = 64;
const CHUNK_EVERY_MS = 20;

async function checkpointed(journal: string): Promise<boolean> {
  const text = await readFile(journal, 'utf8').catch(() => '');
  return text.split('\n').some((l) => l.startsWith('{"rows"'));
}

t.test('Ctrl-C mid-run exits 130, commits no output, and --resume finishes it byte for byte', async (t) => {
  const dir = await tempDir(t);
  const lines = (await readFile(WEATHER_CSV, 'utf8')).trimEnd().split('\n');
  const body = lines.slice(1);
  const rows = Array.from({ length: 20 }, () => body).flat();
  const input = join(dir, 'in.csv');
  await writeFile(input, [lines[0], ...rows].join('\n') + '\n');
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

  const whole = await runCli(args('whole.csv'), { cwd: dir });
  if (whole.code !== 0) t.comment(tail(whole.stderr));
  t.equal(whole.code, 0, 'an uninterrupted run exits 0');

  // The interrupted run: in.csv is a named pipe, fed a chunk of rows at a time and kept open.
  await rm(input);
  execFileSync('mkfifo', [input]);
  const child = spawnCli([...args('out.csv'), '--resume'], {
    cwd: dir,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Opening the pipe to write waits for the run to open it to read. Should the run die first, a reader of our
  // own releases the open, and the test fails with the run's stderr instead of hanging.
  const opening = open(input, 'w');
  void exited.then(() => open(input, constants.O_RDONLY | constants.O_NONBLOCK).then((r) => r.close()));
  const pipe = await opening;
  const running = () => child.exitCode === null;
  if (!running()) throw new Error(`the run ended before reading its input: ${tail(stderr)}`);
  t.teardown(() => pipe.close().catch(() => undefined));
  const journal = join(dir, 'out.csv.journal');
  await pipe.write(`${lines[0]}\n`);
  let fed = 0;
  while (!(await checkpointed(journal))) {
    // Running out of rows before a checkpoint would leave the run waiting for input forever.
    if (fed >= rows.length - CHUNK_ROWS) throw new Error(`no checkpoint after ${fed} rows: ${tail(stderr)}`);
    await pipe.write(rows.slice(fed, fed + CHUNK_ROWS).join('\n') + '\n');
    fed += CHUNK_ROWS;
    await new Promise((resolve) => setTimeout(resolve, CHUNK_EVERY_MS));
  }
  child.kill('SIGINT');
  // The run reports the interrupt at once, but its process lives on until the read it has pending on the pipe
  // returns: the pipe is closed only after the report, so the run can never see the end of its input.
  const stopped = /stopped \(received SIGINT\); no partial output was committed/;
  while (!stopped.test(stderr) && running()) await new Promise((r) => setTimeout(r, 10));
  await pipe.close();
  const code = await exited;
  t.comment(`interrupted after ${fed} of ${rows.length} rows were fed`);
  if (code !== 130) t.comment(tail(stderr));
  t.equal(code, 130, 'interrupted run exits 130');
  t.match(stderr, stopped);
  await t.rejects(access(join(dir, 'out.csv')), 'no output file after the interrupt');
  await access(journal);

  // The same rows, now from a plain file at the same path.
  await rm(input);
  await writeFile(input, [lines[0], ...rows].join('\n') + '\n');
  const second = await runCli([...args('out.csv'), '--resume'], { cwd: dir });
  if (second.code !== 0) t.comment(tail(second.stderr));
  t.equal(second.code, 0, 'the resumed run exits 0');
  t.ok(
    (await readFile(join(dir, 'out.csv'))).equals(await readFile(join(dir, 'whole.csv'))),
    'resumed output equals an uninterrupted run',
  );
});
