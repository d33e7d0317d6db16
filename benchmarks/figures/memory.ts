/**
 * Memory: peak RSS of `batch-infer run` (in process, `local`, the defaults) over `rows` and 10 × `rows` rows of
 * the same generator, each a fresh process, interleaved per repeat. Constant memory means the two peaks are
 * close: issue #7's bar is 10M rows within 1.1 × the 1M-row peak, and the 1M-row peak ≤ 150 MB.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, runChild } from '../lib/processes.js';
import { measurement, median, type Measurement } from '../lib/stats.js';
import type { FigureContext } from './context.js';

const MB = 1_000_000 / 2 ** 20;

export async function memory(ctx: FigureContext, rows: number): Promise<Measurement[]> {
  const sizes = [rows, 10 * rows];
  const inputs = await Promise.all(sizes.map((n) => ctx.input(n)));
  const peaks = sizes.map((): number[] => []);
  const outDir = join(ctx.dir, 'memory');
  const output = join(outDir, 'out.csv');
  for (let r = 0; r < ctx.repeats; r++) {
    for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const args = [CLI, 'run', '--input', inputs[i] as string, '--output', output];
      const { stats } = await runChild(ctx.dir, [], args, 60 * 60_000);
      await rm(outDir, { recursive: true, force: true });
      peaks[i]?.push(stats.max_rss_mib);
      ctx.log(
        `  local ${(sizes[i] as number).toLocaleString('en-US')} rows #${r + 1}: peak RSS ${stats.max_rss_mib.toFixed(0)} MiB`,
      );
    }
  }
  const [small = [], large = []] = peaks;
  const label = (n: number): string => `local, ${n.toLocaleString('en-US')} rows`;
  const mb = (mib: readonly number[]): string => `${(median(mib) / MB).toFixed(0)} MB`;
  const ratio = median(large) / median(small);
  return [
    measurement('memory', label(rows), 'peak RSS', 'MiB', small, mb(small)),
    measurement('memory', label(10 * rows), 'peak RSS', 'MiB', large, mb(large)),
    measurement(
      'memory',
      `${label(10 * rows)} / ${label(rows)}`,
      'ratio of peak RSS',
      'ratio',
      [ratio],
      'of medians',
    ),
  ];
}
