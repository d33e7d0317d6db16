/**
 * Seeded generator of weather-like CSVs: rows resampled from the bundled `data/weather.csv` with seeded noise
 * on the numeric columns. The same (rows, seed) always gives the same bytes, so every size is reproducible.
 *
 *   npx tsx benchmarks/generate.ts <rows> [<output.csv>] [--seed <n>]
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args.splice(seedAt, 2)[1]) : DEFAULT_SEED;
  const rows = Number(args[0] ?? '100000');
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(seed)) {
    console.error('usage: tsx benchmarks/generate.ts <rows> [<output.csv>] [--seed <n>]');
    process.exitCode = 2;
  } else {
    const path =
      args[1] ?? join(await mkdtemp(join(tmpdir(), 'batch-infer-bench-')), `weather-${rows}-s${seed}.csv`);
    await generateCsv(path, rows, seed);
    console.log(path);
  }
}
