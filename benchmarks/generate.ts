/**
 * Seeded generators of benchmark CSVs. The same (rows, seed) always gives the same bytes, so every size is
 * reproducible.
 *
 * - `weather` (default): rows resampled from the bundled `data/weather.csv` with seeded noise on the numeric
 *   columns.
 * - `titanic`: rows drawn like `test/fixtures/models/data/titanic.csv` (the skl2onnx `titanic` model's six
 *   inputs: INT64 `pclass`, `sibsp`; string `sex`, `embarked`; FP32 `age` with ~10 % empty cells, `fare`).
 *
 *   npx tsx benchmarks/generate.ts <rows> [<output.csv>] [--seed <n>] [--model weather|titanic]
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { mulberry32 } from '../training/prng.js';

export const DEFAULT_SEED = 7;

interface SourceRow {
  location: string;
  date: string;
  precipitation: number;
  tempMax: number;
  tempMin: number;
  wind: number;
  weather: string;
}

async function readSource(): Promise<{ header: string; rows: SourceRow[] }> {
  const [header = '', ...lines] = (await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), 'utf8'))
    .trim()
    .split('\n');
  const rows = lines.map((line) => {
    const [location = '', date = '', p = '', tmax = '', tmin = '', wind = '', weather = ''] = line.split(',');
    return {
      location,
      date,
      precipitation: Number(p),
      tempMax: Number(tmax),
      tempMin: Number(tmin),
      wind: Number(wind),
      weather,
    };
  });
  return { header, rows };
}

/** Writes a CSV of `rows` data rows (plus the header) to `path`, respecting the stream's backpressure. */
export async function generateCsv(path: string, rows: number, seed = DEFAULT_SEED): Promise<void> {
  const { header, rows: source } = await readSource();
  const random = mulberry32(seed);
  const noise = (scale: number): number => (random() + random() + random() - 1.5) * scale;
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let chunk = `${header}\n`;
  for (let i = 0; i < rows; i++) {
    const r = source[Math.floor(random() * source.length)] as SourceRow;
    // Dry days stay dry; wet days get multiplicative noise. Temperatures and wind get additive noise.
    const precipitation = r.precipitation === 0 ? 0 : Math.max(0, r.precipitation * (1 + noise(0.4)));
    const tempMax = r.tempMax + noise(2);
    const tempMin = Math.min(tempMax, r.tempMin + noise(2));
    const wind = Math.max(0, r.wind + noise(1));
    chunk += `${r.location},${r.date},${precipitation.toFixed(1)},${tempMax.toFixed(1)},${tempMin.toFixed(1)},${wind.toFixed(1)},${r.weather}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** Tiny integer-weighted draw: `weights[i]` is the chance of `i`. */
function pick(random: () => number, weights: readonly number[]): number {
  let u = random();
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i] as number;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/**
 * Writes a titanic-like CSV (header `pclass,sex,age,sibsp,fare,embarked`, as the fixture's) of `rows` data rows:
 * the fixture generator's distributions (`make_titanic` in test/fixtures/models/make/make_sklearn.py), with
 * ~10 % empty ages, sibsp 0–5 and embarked always one of S, C, Q. Synthetic; no real passenger data.
 */
export async function generateTitanicCsv(path: string, rows: number, seed = DEFAULT_SEED): Promise<void> {
  const random = mulberry32(seed);
  // Box–Muller, one value per call (the second is dropped: simpler, and speed does not matter here).
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const FARE_MEDIAN = [80, 20, 9];
  const SIBSP = [0.66, 0.23, 0.05, 0.03, 0.02, 0.01];
  const EMBARKED = ['S', 'C', 'Q'];
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let chunk = 'pclass,sex,age,sibsp,fare,embarked\n';
  for (let i = 0; i < rows; i++) {
    const pclass = 1 + pick(random, [0.25, 0.2, 0.55]);
    const sex = random() < 0.64 ? 'male' : 'female';
    const age =
      random() < 0.1 ? '' : Math.min(80, Math.max(0.5, 30 - 4 * (pclass - 2) + 13 * normal())).toFixed(1);
    const sibsp = pick(random, SIBSP);
    const fare = Number(((FARE_MEDIAN[pclass - 1] as number) * Math.exp(0.5 * normal())).toFixed(4));
    const embarked = EMBARKED[pick(random, [0.72, 0.19, 0.09])] as string;
    chunk += `${pclass},${sex},${age},${sibsp},${fare},${embarked}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

export const GENERATORS = { weather: generateCsv, titanic: generateTitanicCsv } as const;
export type GeneratedModel = keyof typeof GENERATORS;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args.splice(seedAt, 2)[1]) : DEFAULT_SEED;
  const modelAt = args.indexOf('--model');
  const model = (modelAt >= 0 ? args.splice(modelAt, 2)[1] : undefined) ?? 'weather';
  const rows = Number(args[0] ?? '100000');
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(seed) || !(model in GENERATORS)) {
    console.error(
      'usage: tsx benchmarks/generate.ts <rows> [<output.csv>] [--seed <n>] [--model weather|titanic]',
    );
    process.exitCode = 2;
  } else {
    const name = model as GeneratedModel;
    const path =
      args[1] ?? join(await mkdtemp(join(tmpdir(), 'batch-infer-bench-')), `${name}-${rows}-s${seed}.csv`);
    await GENERATORS[name](path, rows, seed);
    console.log(path);
  }
}
