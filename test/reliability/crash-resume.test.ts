import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCsv } from '../../benchmarks/generate.js';
import { mulberry32 } from '../../lib/core/prng.js';
import { startFaultProxy } from '../../testing/index.js';
import { spawnCli } from '../cli/spawn-cli.js';
import { startServer, tempDir } from '../helpers.js';

// Issue #10, point 2: `batch-infer run --resume` killed with SIGKILL (no cleanup of any kind) at 20 seeded
// points, and run again each time, ends with the bytes of a run that was never interrupted. The points are
// kinds of progress, not times: a number of checkpoints in the journal, or of bytes in the partial output.
// They come in chains of four, each chain from a fresh start, so later kills land in resumed runs, whose
// journal was rewritten from an earlier one.
t.setTimeout(900_000);

const ROWS = 16_000;
const CHAINS = 5;
const KILLS = 4;
const SEED = 2026;

type Point = { journalEntries: number } | { partialBytes: number };

/** Seeded generator rows, with a bad date every 499 rows and two stray quotes, for rejects and parser restarts. */
async function writeInput(path: string): Promise<void> {
  await generateCsv(path, ROWS, SEED);
  const [header, ...rows] = (await readFile(path, 'utf8')).trimEnd().split('\n');
  const lines = rows.map((row, i) =>
    i === 5000 || i === 11000
      ? row.replace(',', ',"') // runs on to the next quote, 6000 lines down, or to the end
      : i % 499 === 0
        ? row.replace(/,\d{4}-\d{2}-\d{2},/, ',not-a-date,')
        : row,
  );
  await writeFile(path, `${[header, ...lines].join('\n')}\n`);
}

async function journalEntries(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? -1 : text.split('\n').filter((l) => l.startsWith('{"rows"')).length;
}

async function size(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => -1,
  );
}

/** Resolves with how the child ended: its exit code, or the signal that killed it. */
function ended(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
}

t.test('SIGKILL at 20 seeded points, --resume after each: byte-identical output and rejects', async (t) => {
  const dir = await tempDir(t);
  await writeInput(join(dir, 'in.csv'));
  // Every answer trickles in over 20 ms, so a run lasts seconds on any machine and its journal (one checkpoint
  // a second) gets several entries to be killed after.
  const proxy = await startFaultProxy({
    target: await startServer(t),
    rates: { slowBody: 1 },
    slowBodyMs: 20,
  });
  t.teardown(() => proxy.close());
  const args = (output: string): string[] => [
    'run',
    ...['-i', 'in.csv', '-o', output, '--url', proxy.url, '--model', 'weather'],
    ...['--batch-size', '50', '--concurrency', '2', '--resume'],
  ];
  const start = (output: string): ChildProcess =>
    spawnCli(args(output), { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' }, stdio: 'ignore' });

  t.equal(await ended(start('ref.csv')), 0, 'the uninterrupted run succeeds');
  const reference = {
    output: await readFile(join(dir, 'ref.csv')),
    rejects: await readFile(join(dir, 'ref.rejects.csv')),
    rows: (JSON.parse(await readFile(join(dir, 'ref.summary.json'), 'utf8')) as { rows: unknown }).rows,
  };
  t.ok(reference.rejects.toString().split('\n').length > 30, 'the reference has rejects');

  const random = mulberry32(SEED);
  const journal = join(dir, 'out.csv.journal');
  const partial = join(dir, 'out.csv.partial');
  const reached = async (point: Point): Promise<boolean> =>
    'journalEntries' in point
      ? (await journalEntries(journal)) >= point.journalEntries
      : (await size(partial)) >= point.partialBytes;

  for (let chain = 0; chain < CHAINS; chain++) {
    // The first point of a chain may be a number of checkpoints (0: the journal exists, nothing committed);
    // the others are growing byte counts, so each is still ahead when the run before it was killed.
    const bytes = Array.from({ length: KILLS }, () => Math.floor(random() * 0.9 * reference.output.length));
    const points: Point[] = bytes.sort((a, b) => a - b).map((partialBytes) => ({ partialBytes }));
    if (random() < 0.5) points[0] = { journalEntries: Math.floor(random() * 3) };
    for (const point of points) {
      const child = start('out.csv');
      const exit = ended(child);
      // A run that ends before its point is not killed: the equal below then fails.
      while (child.exitCode === null && !(await reached(point))) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      t.equal(await exit, 'SIGKILL', `chain ${chain}: killed at ${JSON.stringify(point)}`);
      t.comment(
        `  journal: ${await journalEntries(journal)} checkpoint(s), partial: ${await size(partial)} bytes`,
      );
    }
    t.equal(await ended(start('out.csv')), 0, `chain ${chain}: the last --resume succeeds`);
    t.ok(
      (await readFile(join(dir, 'out.csv'))).equals(reference.output),
      `chain ${chain}: output byte-identical`,
    );
    t.ok(
      (await readFile(join(dir, 'out.rejects.csv'))).equals(reference.rejects),
      `chain ${chain}: rejects byte-identical`,
    );
    const summary = JSON.parse(await readFile(join(dir, 'out.summary.json'), 'utf8')) as {
      rows: unknown;
    };
    t.same(summary.rows, reference.rows, `chain ${chain}: the counts include the killed runs' rows`);
    t.equal(await size(journal), -1, 'journal removed');
    t.equal(await size(partial), -1, 'partial output renamed into place');
    for (const file of ['out.csv', 'out.rejects.csv', 'out.summary.json', 'out.metrics.prom'])
      await rm(join(dir, file));
  }
});
