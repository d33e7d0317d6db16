import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { startFaultProxy } from '../../testing/index.js';
import { startServer, tempDir, WEATHER_CSV } from '../helpers.js';

// A run killed with SIGKILL (no cleanup at all) at several points, then started again with --resume, must end
// with the same bytes as a run that was never interrupted: output and rejects.
const TSX = import.meta.resolve('tsx');

function start(
  args: string[],
  cwd: string,
): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(
    process.execPath,
    ['--import', TSX, join(PACKAGE_ROOT, 'bin', 'batch-infer.ts'), 'run', ...args],
    {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, done };
}

async function checkpoints(journal: string): Promise<number> {
  const text = await readFile(journal, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.startsWith('{"rows"')).length;
}

/**
 * Kills the run with SIGKILL once its journal holds `n` checkpoints (0: as soon as it has started). No bound on
 * the wait but the run's own end: a bound in polls killed a run slowed by a loaded machine before its point.
 */
async function killAt(args: string[], cwd: string, n: number): Promise<void> {
  const { child, done } = start(args, cwd);
  const journal = join(cwd, 'out.csv.journal');
  while (child.exitCode === null) {
    if (
      n === 0
        ? await stat(journal).then(
            () => true,
            () => false,
          )
        : (await checkpoints(journal)) >= n
    )
      break;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  await done;
}

t.test('SIGKILL at several points, then --resume: byte-identical output and rejects', async (t) => {
  const dir = await tempDir(t);
  const [header, ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  // 12 copies of the weather data (~35k rows), with a bad row every 997 rows for the rejects file.
  const big: string[] = [header!];
  for (let copy = 0; copy < 12; copy++)
    for (const [i, row] of rows.entries())
      big.push((copy * rows.length + i) % 997 === 0 ? row.replace(/,[^,]*,/, ',not-a-date,') : row);
  await writeFile(join(dir, 'in.csv'), big.join('\n') + '\n');
  // Scored through a proxy that spreads each answer over 20 ms, one request at a time: the run lasts 11 s
  // at least, however fast the machine, so the kills below land mid-run (checkpoints come every second).
  const proxy = await startFaultProxy({
    target: await startServer(t),
    rates: { slowBody: 1 },
    slowBodyMs: 20,
  });
  t.teardown(() => proxy.close());
  const args = ['-i', 'in.csv', '-o', 'out.csv', '--batch-size', '64', '--resume'];
  const transport = ['--url', proxy.url, '--concurrency', '1'];

  const reference = await start([...args.slice(0, 2), '-o', 'ref.csv', ...args.slice(4), ...transport], dir)
    .done;
  t.equal(reference.code, 0, reference.stderr);

  await killAt([...args, ...transport], dir, 0);
  await killAt([...args, ...transport], dir, 1);
  const first = await checkpoints(join(dir, 'out.csv.journal'));
  t.ok(first >= 1, `killed with ${first} checkpoint(s) in the journal`);
  await killAt([...args, ...transport], dir, 2);

  const refused = await start(['-i', 'in.csv', '-o', 'out.csv', '--batch-size', '32', '--resume'], dir).done;
  t.equal(refused.code, 1);
  t.match(
    refused.stderr,
    /Cannot resume: the journal .*out\.csv\.journal belongs to a run with other settings/,
  );

  const resumed = await start([...args, ...transport], dir).done;
  t.equal(resumed.code, 0, resumed.stderr);
  t.ok(
    (await readFile(join(dir, 'out.csv'))).equals(await readFile(join(dir, 'ref.csv'))),
    'output byte-identical',
  );
  t.ok(
    (await readFile(join(dir, 'out.rejects.csv'))).equals(await readFile(join(dir, 'ref.rejects.csv'))),
    'rejects byte-identical',
  );
  const summary = JSON.parse(await readFile(join(dir, 'out.summary.json'), 'utf8')) as { rows: unknown };
  const refSummary = JSON.parse(await readFile(join(dir, 'ref.summary.json'), 'utf8')) as {
    rows: unknown;
  };
  t.same(summary.rows, refSummary.rows, 'counts include the earlier attempts');
  await t.rejects(stat(join(dir, 'out.csv.journal')), 'journal removed on success');
  await t.rejects(stat(join(dir, 'out.csv.partial')));
});
