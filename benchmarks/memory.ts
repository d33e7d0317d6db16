/**
 * Peak RSS of a 200k-row run against a 2M-row run, in process (`local` protocol), each in a fresh child
 * process so one run's heap does not inflate the other's. Constant memory means the two peaks are close: the
 * issue's bar is the 2M-row peak within 10 % of the 200k-row one. Not part of the test suite (it takes a few
 * minutes); run it with `npx tsx benchmarks/memory.ts`.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';

const run = promisify(execFile);

/** Writes `rows` rows cycled from the bundled weather data, with the write stream's backpressure respected. */
async function generate(path: string, rows: number): Promise<void> {
  const [header, ...data] = (await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), 'utf8'))
    .trim()
    .split('\n');
  const out = createWriteStream(path);
  out.write(`${header ?? ''}\n`);
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${data[i % data.length] ?? ''}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The child: runs the pipeline and prints its peak RSS (`resourceUsage().maxRSS` is in KiB). */
const CHILD = `
import { createPipeline } from ${JSON.stringify(join(PACKAGE_ROOT, 'lib', 'index.ts'))};
const [input, output] = process.argv.slice(-2);
const summary = await createPipeline({ input, output, summary: false });
console.log(JSON.stringify({ rows: summary.rows.read, ms: summary.timings.duration_ms, maxRssKiB: process.resourceUsage().maxRSS }));
`;

async function measure(dir: string, rows: number): Promise<{ rows: number; ms: number; maxRssKiB: number }> {
  const input = join(dir, `in-${rows}.csv`);
  await generate(input, rows);
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', CHILD, input, join(dir, `out-${rows}.csv`)],
    { cwd: PACKAGE_ROOT, maxBuffer: 1 << 20 },
  );
  await rm(input);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    rows: number;
    ms: number;
    maxRssKiB: number;
  };
}

const dir = await mkdtemp(join(tmpdir(), 'batch-infer-memory-'));
try {
  const small = await measure(dir, 200_000);
  const large = await measure(dir, 2_000_000);
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  for (const r of [small, large])
    console.log(
      `${r.rows.toLocaleString('en-US').padStart(9)} rows: peak RSS ${mib(r.maxRssKiB)} MiB, ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.rows / (r.ms / 1000))} rows/s)`,
    );
  const ratio = large.maxRssKiB / small.maxRssKiB;
  console.log(
    `ratio 2M / 200k peak RSS: ${ratio.toFixed(3)} (${ratio <= 1.1 ? 'within' : 'NOT within'} 10 %)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
