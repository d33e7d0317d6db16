/**
 * Any ONNX model: a third-party multi-input model with string inputs beside the bundled `weather` model, each
 * as a ratio of the CSV pass-through on its own input, interleaved per repeat (order rotated):
 *
 * - `titanic` (test/fixtures/models/titanic: skl2onnx, six named inputs, INT64 / string / FP32, a ZipMap
 *   output) over a seeded titanic-like CSV (benchmarks/generate.ts `generateTitanicCsv`):
 *   `csv-passthrough` on that CSV, `batch-infer run --models test/fixtures/models --model titanic` in process
 *   (`local`), and `v2-binary` against a fresh `batch-infer serve --models test/fixtures/models`;
 * - `weather`: `csv-passthrough` and `local` on the weather CSV of the same row count (the pipeline figure has
 *   its other protocols).
 *
 * No target: a measured figure. Throughput is rows ÷ the run summary's `duration_ms`, as in the pipeline figure.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { generateTitanicCsv } from '../generate.js';
import { measurement, median, type Measurement } from '../lib/stats.js';
import { CLI, runChild, runTask, startServer, type ProcessStats } from '../lib/processes.js';
import type { FigureContext } from './context.js';

export const FIXTURE_MODELS = join(PACKAGE_ROOT, 'test', 'fixtures', 'models');

type Model = 'titanic' | 'weather';
type Kind = 'csv-passthrough' | 'local' | 'v2-binary';
interface Variant {
  model: Model;
  kind: Kind;
}

const VARIANTS: readonly Variant[] = [
  { model: 'titanic', kind: 'csv-passthrough' },
  { model: 'titanic', kind: 'local' },
  { model: 'titanic', kind: 'v2-binary' },
  { model: 'weather', kind: 'csv-passthrough' },
  { model: 'weather', kind: 'local' },
];
const label = (v: Variant): string => `${v.model} ${v.kind}`;

interface Sample {
  rows_per_s: number;
  client: ProcessStats;
  server?: ProcessStats & { cpu_run_s?: number };
}

async function passthrough(ctx: FigureContext, input: string): Promise<Sample> {
  const output = join(ctx.dir, 'models-passthrough.csv');
  try {
    const { result, stats } = await runTask(ctx.dir, { task: 'passthrough', input, output }, 20 * 60_000);
    return { rows_per_s: result.rows / (result.ms / 1000), client: stats };
  } finally {
    await rm(output, { force: true });
  }
}

async function pipelineRun(ctx: FigureContext, v: Variant, input: string, rows: number): Promise<Sample> {
  const output = join(ctx.dir, `models-${v.model}-${v.kind}.csv`);
  const summary = join(ctx.dir, `models-${v.model}-${v.kind}.summary.json`);
  const repository = v.model === 'weather' ? [] : ['--models', FIXTURE_MODELS];
  const server = v.kind === 'local' ? undefined : await startServer(ctx.dir, repository);
  try {
    const args = [CLI, 'run', '--model', v.model, '--input', input, '--output', output, '--summary', summary];
    args.push('--protocol', v.kind);
    if (server === undefined) args.push(...repository);
    else args.push('--url', server.url);
    const cpuBefore = server?.cpuSeconds();
    const client = await runChild(ctx.dir, [], args, 30 * 60_000);
    const cpuAfter = server?.cpuSeconds();
    const s = JSON.parse(await readFile(summary, 'utf8')) as {
      rows: { read: number; scored: number };
      timings: { duration_ms: number };
      protocol: string;
    };
    if (s.rows.read !== rows || s.rows.scored !== rows || s.protocol !== v.kind)
      throw new Error(`models ${label(v)}: expected ${rows} rows scored, got ${JSON.stringify(s.rows)}`);
    const serverStats = await server?.stop();
    const cpu_run_s =
      cpuBefore !== undefined && cpuAfter !== undefined ? { cpu_run_s: cpuAfter - cpuBefore } : {};
    return {
      rows_per_s: rows / (s.timings.duration_ms / 1000),
      client: client.stats,
      ...(serverStats === undefined ? {} : { server: { ...serverStats, ...cpu_run_s } }),
    };
  } finally {
    await server?.stop().catch(() => undefined);
    await rm(output, { force: true });
    await rm(summary, { force: true });
  }
}

export async function models(ctx: FigureContext, rows: number, seed: number): Promise<Measurement[]> {
  const titanic = join(ctx.dir, `titanic-${rows}-s${seed}.csv`);
  await generateTitanicCsv(titanic, rows, seed);
  const inputs: Record<Model, string> = { titanic, weather: await ctx.input(rows) };
  const samples = VARIANTS.map((): Sample[] => []);
  for (let r = 0; r < ctx.repeats; r++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const i = (k + r) % VARIANTS.length;
      const v = VARIANTS[i] as Variant;
      const s =
        v.kind === 'csv-passthrough'
          ? await passthrough(ctx, inputs[v.model])
          : await pipelineRun(ctx, v, inputs[v.model], rows);
      ctx.log(`  ${label(v)} #${r + 1}: ${Math.round(s.rows_per_s).toLocaleString('en-US')} rows/s`);
      samples[i]?.push(s);
    }
  }
  await rm(titanic, { force: true });

  const size = `${rows.toLocaleString('en-US')} rows`;
  const of = (v: Variant): Sample[] =>
    samples[VARIANTS.findIndex((w) => w.model === v.model && w.kind === v.kind)] ?? [];
  const out: Measurement[] = [];
  for (const v of VARIANTS) {
    const ss = of(v);
    const rps = ss.map((s) => s.rows_per_s);
    out.push(measurement('models', label(v), 'throughput', 'rows/s', rps, size));
    if (v.kind === 'csv-passthrough') continue;
    const base = of({ model: v.model, kind: 'csv-passthrough' });
    out.push(
      measurement(
        'models',
        label(v),
        'ratio to csv-passthrough',
        'ratio',
        [median(rps) / median(base.map((s) => s.rows_per_s))],
        `of medians, ${v.model}'s own CSV; per round ${ss
          .map((s, r) => `${((100 * s.rows_per_s) / (base[r]?.rows_per_s ?? NaN)).toFixed(0)} %`)
          .join(', ')}`,
      ),
    );
    out.push(
      measurement(
        'models',
        label(v),
        'client CPU',
        's',
        ss.map((s) => s.client.cpu_user_s + s.client.cpu_system_s),
        'process.cpuUsage, all threads',
      ),
    );
    out.push(
      measurement(
        'models',
        label(v),
        'client peak RSS',
        'MiB',
        ss.map((s) => s.client.max_rss_mib),
        'resourceUsage().maxRSS',
      ),
    );
    const server = ss.flatMap((s) => (s.server === undefined ? [] : [s.server]));
    if (server.length === 0) continue;
    const runCpu = server.flatMap((c) => (c.cpu_run_s === undefined ? [] : [c.cpu_run_s]));
    if (runCpu.length === server.length)
      out.push(measurement('models', label(v), 'server CPU', 's', runCpu, 'during the client run, /proc'));
    out.push(
      measurement(
        'models',
        label(v),
        'server peak RSS',
        'MiB',
        server.map((c) => c.max_rss_mib),
        'whole server life',
      ),
    );
  }
  // titanic's pass-through ratio against weather's, each on its own CSV (the two CSVs differ in width).
  const ratio = (model: Model): number =>
    median(of({ model, kind: 'local' }).map((s) => s.rows_per_s)) /
    median(of({ model, kind: 'csv-passthrough' }).map((s) => s.rows_per_s));
  out.push(
    measurement(
      'models',
      'titanic local / weather local',
      'ratio of pass-through ratios',
      'ratio',
      [ratio('titanic') / ratio('weather')],
      'of medians',
    ),
  );
  // The same in CPU (client, user + sys, whole process): steadier than rows/s on a loaded machine.
  const cpu = (model: Model): number =>
    median(of({ model, kind: 'local' }).map((s) => s.client.cpu_user_s + s.client.cpu_system_s));
  out.push(
    measurement(
      'models',
      'titanic local / weather local',
      'ratio of client CPU',
      'ratio',
      [cpu('titanic') / cpu('weather')],
      'of medians, same row count',
    ),
  );
  return out;
}
