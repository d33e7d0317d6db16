/**
 * `npm run bench` — runs every figure several times (interleaving the variants it compares), prints a table
 * (median, min–max) and writes benchmarks/results/<date>.json with the machine's details.
 *
 *   npm run bench                      full run (1M-row pipeline, 10M rows for memory; 20–30 minutes on 2 cores)
 *   npm run bench -- --quick           smoke mode: 20k rows, 1 repeat, < 2 minutes; checks the output is well formed
 *   options: --rows <n> (pipeline size)  --repeats <n>  --only limits,models,memory,online,scaling,sources  --no-build
 *            --seed <n>
 *            --profile <dir>: every child writes CPU profiles there (summarize with benchmarks/profile.ts)
 *
 * No timing assertion anywhere: the run fails only if a figure cannot be measured or the output is malformed.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { DEFAULT_SEED, generateCsv } from './generate.js';
import { profileChildren } from './lib/processes.js';
import { formatTable, machineInfo, type Measurement } from './lib/stats.js';
import type { FigureContext } from './figures/context.js';
import { endToEnd } from './figures/end-to-end.js';
import { memory } from './figures/memory.js';
import { models } from './figures/models.js';
import { online } from './figures/online.js';
import { scaling } from './figures/scaling.js';
import { sources } from './figures/sources.js';

const FIGURES = ['limits', 'models', 'memory', 'online', 'scaling', 'sources'] as const;
type Figure = (typeof FIGURES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rows: { type: 'string' },
    repeats: { type: 'string' },
    only: { type: 'string' },
    seed: { type: 'string' },
    profile: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const positive = (name: string, raw: string | undefined, fallback: number): number => {
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, got ${String(raw)}`);
  return n;
};
const repeats = positive('repeats', values.repeats, quick ? 1 : 2);
const config = {
  mode: quick ? 'quick' : 'full',
  seed: positive('seed', values.seed, DEFAULT_SEED),
  pipeline_rows: positive('rows', values.rows, quick ? 20_000 : 1_000_000),
  repeats,
  // Online: interleaved rounds of 8 s per point (issue #18: 3 × 8 s); scaling compares points a few percent
  // apart on a noisy shared machine: more repeats.
  online_repeats: quick ? repeats : repeats + 1,
  scaling_repeats: quick ? repeats : 2 * repeats,
  // Fresh rounds of the defaults against the grid's best point, paired.
  scaling_confirm_rounds: quick ? repeats : 5 * repeats,
  // The multi-input model (titanic) beside weather, each against the CSV pass-through of its own input;
  // the same size as the pipeline figure (so the weather input is shared).
  models_rows: positive('rows', values.rows, quick ? 20_000 : 1_000_000),
  memory_rows: quick ? 20_000 : 1_000_000,
  online_seconds: quick ? 1 : 8,
  scaling_rows: quick ? 20_000 : 500_000,
  sources_rows: quick ? 20_000 : 1_000_000,
  scaling_concurrency: quick ? [1, 2] : [1, 2, 4, 8],
  scaling_batch_size: quick ? [256, 4096] : [256, 1024, 4096],
};
const only = (values.only?.split(',') ?? [...FIGURES]) as Figure[];
for (const f of only)
  if (!FIGURES.includes(f)) throw new Error(`--only: unknown figure ${f} (${FIGURES.join(', ')})`);

const started = performance.now();
const log = (message: string): void => {
  console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
};

if (!values['no-build']) {
  log('npm run build');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
}

if (values.profile !== undefined) {
  profileChildren(values.profile);
  log(`CPU profiles of every child go to ${values.profile}`);
}

const dir = await mkdtemp(join(tmpdir(), 'batch-infer-bench-'));
const inputs = new Map<number, Promise<string>>();
const ctx: FigureContext = {
  dir,
  quick,
  repeats: config.repeats,
  input(rows) {
    let path = inputs.get(rows);
    if (path === undefined) {
      const file = join(dir, `weather-${rows}-s${config.seed}.csv`);
      path = generateCsv(file, rows, config.seed).then(() => file);
      inputs.set(rows, path);
    }
    return path;
  },
  log,
};

const measurements: Measurement[] = [];
try {
  if (only.includes('limits')) {
    log(
      `limits + pipeline end to end, ${config.pipeline_rows.toLocaleString('en-US')} rows, ${config.repeats} repeat(s)`,
    );
    measurements.push(...(await endToEnd(ctx, config.pipeline_rows)));
  }
  if (only.includes('models')) {
    log(
      `models (titanic, weather), ${config.models_rows.toLocaleString('en-US')} rows, ${config.repeats} repeat(s)`,
    );
    measurements.push(...(await models(ctx, config.models_rows, config.seed)));
  }
  if (only.includes('memory')) {
    log(
      `memory, ${config.memory_rows.toLocaleString('en-US')} and 10× as many rows, ${config.repeats} repeat(s)`,
    );
    measurements.push(...(await memory(ctx, config.memory_rows)));
  }
  if (only.includes('online')) {
    log(`online serving, ${config.online_seconds} s per point, ${config.online_repeats} repeat(s)`);
    measurements.push(...(await online({ ...ctx, repeats: config.online_repeats }, config.online_seconds)));
  }
  if (only.includes('scaling')) {
    log(
      `scaling grid, ${config.scaling_rows.toLocaleString('en-US')} rows, ${config.scaling_repeats} repeat(s)`,
    );
    measurements.push(
      ...(await scaling(
        { ...ctx, repeats: config.scaling_repeats },
        config.scaling_rows,
        config.scaling_concurrency,
        config.scaling_batch_size,
        config.scaling_confirm_rounds,
      )),
    );
  }
  if (only.includes('sources')) {
    log(`sources (Parquet, PostgreSQL), ${config.sources_rows.toLocaleString('en-US')} and 10× as many rows`);
    measurements.push(...(await sources(ctx, config.sources_rows)));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const date = new Date().toISOString();
const report = {
  date,
  machine: machineInfo(),
  config,
  figures: only,
  wall_s: (performance.now() - started) / 1000,
  measurements,
};

/** Well-formedness (never timing): every measurement has samples, finite positive numbers, known figures. */
function problems(r: typeof report): string[] {
  const found: string[] = [];
  if (r.measurements.length === 0) found.push('no measurements');
  for (const m of r.measurements) {
    const where = `${m.figure} / ${m.variant} / ${m.metric}`;
    if (m.samples.length === 0) found.push(`${where}: no samples`);
    for (const v of [...m.samples, m.median, m.min, m.max])
      if (!Number.isFinite(v) || v < 0) found.push(`${where}: bad value ${v}`);
    if (m.min > m.median || m.median > m.max) found.push(`${where}: median outside min–max`);
  }
  const figures = new Set(r.measurements.map((m) => m.figure));
  const expected = only.flatMap((f) => (f === 'limits' ? ['limits', 'pipeline'] : [f]));
  for (const f of expected) if (!figures.has(f)) found.push(`figure ${f} missing`);
  if (!(r.machine.cores > 0) || r.machine.node === '') found.push('machine info incomplete');
  return found;
}

const resultsDir = join(PACKAGE_ROOT, 'benchmarks', 'results');
await mkdir(resultsDir, { recursive: true });
const file = join(
  resultsDir,
  `${date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}${quick ? '-quick' : ''}.json`,
);
await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);

console.log(
  `batch-infer benchmarks, ${config.mode} mode, ${date}: ${report.machine.cores} cores, ${report.machine.cpu_model}, Node ${report.machine.node}\n`,
);
console.log(formatTable(measurements));
console.log(`\nwrote ${file} (${report.wall_s.toFixed(0)} s)`);

const reread = JSON.parse(await readFile(file, 'utf8')) as typeof report;
const found = problems(reread);
if (found.length > 0) {
  console.error(`malformed benchmark output:\n  ${found.join('\n  ')}`);
  process.exitCode = 1;
}
