import t from 'tap';
import { spawn } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const TSX = import.meta.resolve('tsx');

function run(
  args: string[],
  cwd: string,
  interruptAfterMs?: number,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX, join(PACKAGE_ROOT, 'bin', 'batch-infer.ts'), ...args],
      { cwd },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Interrupt only once the run has made progress, so there is something to resume.
      if (interruptAfterMs !== undefined && stderr.includes('"msg":"progress"')) {
        setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
        interruptAfterMs = undefined;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
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
