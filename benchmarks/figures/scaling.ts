/**
 * Scaling: `batch-infer run` rows/s over a grid of --concurrency × --batch-size against one server on
 * 127.0.0.1, protocol left to the client's default (it picks v2-binary from the server's metadata). The grid
 * points are visited in a different order each repeat.
 *
 * Then the defaults against the grid's best point, in fresh rounds of the two alone (their order alternating):
 * the best of twelve noisy medians is also the luckiest, so its lead in the grid overstates its lead, and only
 * new runs measure it without that bias (winner's curse).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BATCH_SIZE } from '../../lib/streams/batcher.js';
import { DEFAULT_CONCURRENCY } from '../../lib/streams/model-scorer.js';
import { measurement, median, type Measurement } from '../lib/stats.js';
import { CLI, runChild, startServer } from '../lib/processes.js';
import type { FigureContext } from './context.js';

interface Point {
  c: number;
  b: number;
}

const key = ({ c, b }: Point): string => `${c}|${b}`;
const name = ({ c, b }: Point): string => `concurrency ${c}, batch ${b}`;

export async function scaling(
  ctx: FigureContext,
  rows: number,
  concurrencies: readonly number[],
  batchSizes: readonly number[],
  confirmRounds: number,
): Promise<Measurement[]> {
  const input = await ctx.input(rows);
  const grid = concurrencies.flatMap((c) => batchSizes.map((b) => ({ c, b })));
  const samples = new Map<string, number[]>();
  let protocol = '';
  const server = await startServer(ctx.dir);

  /** One run of `rows` rows at a point; its rows/s. */
  const run = async (point: Point, label: string): Promise<number> => {
    const output = join(ctx.dir, 'scaling.csv');
    const summary = join(ctx.dir, 'scaling.summary.json');
    const args = [
      CLI,
      'run',
      '--input',
      input,
      '--output',
      output,
      '--summary',
      summary,
      '--url',
      server.url,
    ];
    args.push('--concurrency', String(point.c), '--batch-size', String(point.b));
    await runChild(ctx.dir, [], args, 30 * 60_000);
    const s = JSON.parse(await readFile(summary, 'utf8')) as {
      rows: { scored: number };
      timings: { duration_ms: number };
      protocol: string;
    };
    if (s.rows.scored !== rows)
      throw new Error(`scaling ${name(point)}: ${s.rows.scored} of ${rows} rows scored`);
    protocol = s.protocol;
    const rps = rows / (s.timings.duration_ms / 1000);
    ctx.log(`  ${name(point)} ${label}: ${Math.round(rps).toLocaleString('en-US')} rows/s`);
    await rm(output, { force: true });
    await rm(summary, { force: true });
    return rps;
  };

  const defaults = { c: DEFAULT_CONCURRENCY, b: DEFAULT_BATCH_SIZE };
  const inGrid = grid.some((p) => key(p) === key(defaults));
  const confirmed: number[] = [];
  let best: Point;
  try {
    for (let r = 0; r < ctx.repeats; r++) {
      const order = r % 2 === 0 ? grid : [...grid].reverse();
      for (const point of order)
        samples.set(key(point), [...(samples.get(key(point)) ?? []), await run(point, `#${r + 1}`)]);
    }
    // The grid point of the highest median.
    best = grid.reduce((a, p) =>
      median(samples.get(key(p)) ?? []) > median(samples.get(key(a)) ?? []) ? p : a,
    );
    if (inGrid && key(best) !== key(defaults))
      for (let r = 0; r < confirmRounds; r++) {
        const label = `confirmation #${r + 1}`;
        if (r % 2 === 0) {
          const d = await run(defaults, label);
          confirmed.push(d / (await run(best, label)));
        } else {
          const b = await run(best, label);
          confirmed.push((await run(defaults, label)) / b);
        }
      }
  } finally {
    await server.stop().catch(() => undefined);
  }

  const note = `${rows.toLocaleString('en-US')} rows, ${protocol}`;
  const out = grid.map((p) =>
    measurement('scaling', name(p), 'throughput', 'rows/s', samples.get(key(p)) ?? [], note),
  );
  if (!inGrid) return out;
  const base = samples.get(key(defaults)) ?? [];
  const variant = `defaults (${defaults.c}, ${defaults.b}) vs best`;
  const metric = `ratio to ${name(best)}`;
  out.push(
    measurement('scaling', `${variant}, of grid medians`, metric, 'ratio', [
      median(base) / median(samples.get(key(best)) ?? []),
    ]),
  );
  if (confirmed.length > 0)
    out.push(
      measurement(
        'scaling',
        `${variant}, confirmed`,
        metric,
        'ratio',
        confirmed,
        `fresh paired rounds of the two alone; the defaults faster in ${confirmed.filter((r) => r > 1).length} of ${confirmed.length}`,
      ),
    );
  return out;
}
