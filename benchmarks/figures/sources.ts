/**
 * Sources and sinks (issue #17): Parquet → Parquet and PostgreSQL → PostgreSQL at `rows` and 10 × `rows` rows,
 * each measured in fresh child processes, interleaved per round (order rotated), two ways:
 *
 * - `scored`: the real CLI, `batch-infer run --input x.parquet --output y.parquet` (or `--input postgres://…
 *   --input-table t --output postgres://… --output-table scored`), in process (`local`), the bundled `weather`
 *   model, the defaults: rows ÷ the run summary's `duration_ms`, wall time, CPU, peak RSS;
 * - `pass-through`: benchmarks/sources-passthrough.ts, the same source and sink of the built library with no
 *   scoring (every record's cells into RowBatches of 1024): the ceiling of the pair with these libraries.
 *
 * Reported: each one's rows/s and peak RSS (`resourceUsage().maxRSS`, the preload of lib/processes.ts), the
 * scored run's rows/s as a ratio to the pass-through's (of medians, and per round), and the peak RSS at 10 ×
 * `rows` over that at `rows`. Issue #17's bar: peak RSS ≤ 150 MB, 10M ≤ 1.1 × 1M, and ≥ 70 % of the
 * pass-through. No assertion: a measured figure.
 *
 * Input: the harness's seeded weather CSV of each size (benchmarks/generate.ts, shared with the other figures),
 * typed by DuckDB (@duckdb/node-api) into a snappy Parquet file (DuckDB's row groups of 122,880 rows), and
 * loaded with `COPY … FROM STDIN` into a table of a PostgreSQL started for the figure (test/support/postgres.ts
 * through benchmarks/postgres-server.ts), vacuumed and frozen before any read. The pass-through gets `tsx`
 * (about 35 MB of RSS the CLI has not); both reach the server over TCP on 127.0.0.1, on the same 2 cores.
 * Without PostgreSQL server binaries the PostgreSQL pair is skipped with a log line (it fails in CI).
 */
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parquetSource } from '../../lib/io/parquet-source.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { CLI, runChild, type ProcessStats } from '../lib/processes.js';
import { measurement, median, type Measurement } from '../lib/stats.js';
import { POSTGRES_MISSING, startBenchPostgres, type BenchPostgres } from '../postgres-server.js';
import type { PassthroughTask } from '../sources-passthrough.js';
import type { FigureContext } from './context.js';

const PASSTHROUGH = join(PACKAGE_ROOT, 'benchmarks', 'sources-passthrough.ts');
const MB = 1_000_000 / 2 ** 20;

type Pair = 'parquet' | 'postgres';
type Kind = 'scored' | 'pass-through';
interface Variant {
  pair: Pair;
  rows: number;
  kind: Kind;
}
interface Sample {
  rows_per_s: number;
  wall_s: number;
  stats: ProcessStats;
}

const PAIR_LABEL: Readonly<Record<Pair, string>> = {
  parquet: 'parquet → parquet',
  postgres: 'postgres → postgres',
};
const COLUMNS: readonly (readonly [string, string, string])[] = [
  // name, DuckDB type, PostgreSQL type
  ['location', 'VARCHAR', 'text'],
  ['date', 'DATE', 'date'],
  ['precipitation', 'DOUBLE', 'double precision'],
  ['temp_max', 'DOUBLE', 'double precision'],
  ['temp_min', 'DOUBLE', 'double precision'],
  ['wind', 'DOUBLE', 'double precision'],
  ['weather', 'VARCHAR', 'text'],
];
const sql = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The CSV as a typed Parquet file, written by DuckDB (its defaults: snappy, row groups of 122,880 rows). */
async function writeParquet(csv: string, parquet: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const duck = await instance.connect();
  try {
    const columns = COLUMNS.map(([name, type]) => `${sql(name)}: ${sql(type)}`).join(', ');
    await duck.run(
      `COPY (SELECT * FROM read_csv(${sql(csv)}, header = true, columns = {${columns}}))
         TO ${sql(parquet)} (FORMAT parquet, COMPRESSION snappy)`,
    );
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
}

/** Runs SQL on a connection of its own, as the server's superuser. */
async function withClient<T>(db: BenchPostgres, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const { host, port, user, password, database } = db.server;
  const client = new pg.Client({ host, port, user, password, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The CSV into a new table with COPY, then vacuumed and frozen so that no measured read sets hint bits. */
async function loadTable(db: BenchPostgres, csv: string, table: string): Promise<void> {
  await withClient(db, async (client) => {
    const columns = COLUMNS.map(([name, , type]) => `${pg.escapeIdentifier(name)} ${type}`).join(', ');
    await client.query(`CREATE TABLE ${table} (${columns})`);
    await pipeline(
      createReadStream(csv),
      client.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT csv, HEADER true)`)),
    );
    await client.query(`VACUUM (FREEZE, ANALYZE) ${table}`);
  });
}

async function countRows(db: BenchPostgres, table: string): Promise<number> {
  return withClient(db, async (client) => {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(rows[0]?.n);
  });
}

const dropTable = (db: BenchPostgres, table: string): Promise<void> =>
  withClient(db, async (client) => {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
  });

interface Inputs {
  parquet: Map<number, string>;
  tables: Map<number, string>;
  db: BenchPostgres | undefined;
}

async function scored(ctx: FigureContext, inputs: Inputs, v: Variant): Promise<Sample> {
  const out = join(ctx.dir, 'sources-scored');
  const summary = `${out}.summary.json`;
  const side = [
    '--summary',
    summary,
    '--metrics-file',
    `${out}.metrics.prom`,
    '--rejects',
    `${out}.rejects.csv`,
  ];
  const args = [CLI, 'run', '--protocol', 'local', ...side];
  if (v.pair === 'parquet')
    args.push('--input', inputs.parquet.get(v.rows) as string, '--output', `${out}.parquet`);
  else {
    const url = inputs.db?.server.url() as string;
    args.push('--input', url, '--input-table', inputs.tables.get(v.rows) as string);
    args.push('--output', url, '--output-table', 'sources_scored');
  }
  try {
    const child = await runChild(ctx.dir, [], args, 60 * 60_000);
    const s = JSON.parse(await readFile(summary, 'utf8')) as {
      rows: { read: number; scored: number };
      timings: { duration_ms: number };
    };
    const written =
      v.pair === 'parquet'
        ? (await parquetSource(`${out}.parquet`).size()).rows
        : await countRows(inputs.db as BenchPostgres, 'sources_scored');
    if (s.rows.read !== v.rows || s.rows.scored !== v.rows || written !== v.rows)
      throw new Error(
        `sources ${label(v)}: expected ${v.rows} rows scored and written, got ${JSON.stringify(s.rows)} and ${written}`,
      );
    return { rows_per_s: v.rows / (s.timings.duration_ms / 1000), wall_s: child.wall_s, stats: child.stats };
  } finally {
    for (const ext of ['parquet', 'summary.json', 'metrics.prom', 'rejects.csv'])
      await rm(`${out}.${ext}`, { force: true });
    if (v.pair === 'postgres' && inputs.db !== undefined) await dropTable(inputs.db, 'sources_scored');
  }
}

async function passthrough(ctx: FigureContext, inputs: Inputs, v: Variant): Promise<Sample> {
  const out = join(ctx.dir, 'sources-passthrough.parquet');
  const task: PassthroughTask =
    v.pair === 'parquet'
      ? { kind: 'parquet', input: inputs.parquet.get(v.rows) as string, output: out }
      : {
          kind: 'postgres',
          url: inputs.db?.server.url() as string,
          inputTable: inputs.tables.get(v.rows) as string,
          outputTable: 'sources_passthrough',
        };
  try {
    const child = await runChild(
      ctx.dir,
      ['--import', 'tsx'],
      [PASSTHROUGH, JSON.stringify(task)],
      60 * 60_000,
    );
    const result = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as { rows: number; ms: number };
    const written =
      v.pair === 'parquet'
        ? (await parquetSource(out).size()).rows
        : await countRows(inputs.db as BenchPostgres, 'sources_passthrough');
    if (result.rows !== v.rows || written !== v.rows)
      throw new Error(
        `sources ${label(v)}: expected ${v.rows} rows, got ${result.rows} read and ${written} written`,
      );
    return { rows_per_s: v.rows / (result.ms / 1000), wall_s: child.wall_s, stats: child.stats };
  } finally {
    await rm(out, { force: true });
    if (v.pair === 'postgres' && inputs.db !== undefined) await dropTable(inputs.db, 'sources_passthrough');
  }
}

const size = (rows: number): string => `${rows.toLocaleString('en-US')} rows`;
function label(v: Variant): string {
  return `${PAIR_LABEL[v.pair]} ${v.kind}, ${size(v.rows)}`;
}

/**
 * `rows` and 10 × `rows`; the smaller size gets one more round than `ctx.repeats` outside quick mode (it is
 * cheap). Returns throughput, wall time, CPU and peak RSS of every variant, the scored / pass-through ratios
 * and the 10× / 1× peak RSS ratios.
 */
export async function sources(ctx: FigureContext, rows: number): Promise<Measurement[]> {
  const sizes = [rows, 10 * rows];
  const rounds = (n: number): number => (n === rows && !ctx.quick ? ctx.repeats + 1 : ctx.repeats);
  const skipPostgres = POSTGRES_MISSING !== undefined && process.env.CI !== 'true';
  if (skipPostgres) ctx.log(`  sources: PostgreSQL pair skipped: ${POSTGRES_MISSING}`);
  const pairs: Pair[] = skipPostgres ? ['parquet'] : ['parquet', 'postgres'];
  const inputs: Inputs = { parquet: new Map(), tables: new Map(), db: undefined };
  try {
    for (const n of sizes) {
      const csv = await ctx.input(n);
      const parquet = join(ctx.dir, `sources-weather-${n}.parquet`);
      await writeParquet(csv, parquet);
      inputs.parquet.set(n, parquet);
    }
    if (pairs.includes('postgres')) {
      inputs.db = await startBenchPostgres();
      for (const n of sizes) {
        const table = `weather_${n}`;
        await loadTable(inputs.db, await ctx.input(n), table);
        inputs.tables.set(n, table);
      }
    }
    ctx.log(`  sources: inputs ready (${sizes.map(size).join(', ')}; ${pairs.join(', ')})`);

    const variants: Variant[] = pairs.flatMap((pair) =>
      sizes.flatMap((n) => (['scored', 'pass-through'] as const).map((kind) => ({ pair, rows: n, kind }))),
    );
    const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
    const maxRounds = Math.max(...sizes.map(rounds));
    for (let r = 0; r < maxRounds; r++) {
      const due = variants.filter((v) => r < rounds(v.rows));
      for (let k = 0; k < due.length; k++) {
        const v = due[(k + r) % due.length] as Variant;
        const s = v.kind === 'scored' ? await scored(ctx, inputs, v) : await passthrough(ctx, inputs, v);
        samples.get(v)?.push(s);
        ctx.log(
          `  ${label(v)} #${r + 1}: ${Math.round(s.rows_per_s).toLocaleString('en-US')} rows/s, ` +
            `peak RSS ${s.stats.max_rss_mib.toFixed(0)} MiB, ${s.wall_s.toFixed(1)} s`,
        );
      }
    }
    return report(pairs, sizes, variants, samples);
  } finally {
    await inputs.db?.stop();
    for (const file of inputs.parquet.values()) await rm(file, { force: true });
  }
}

function report(
  pairs: readonly Pair[],
  sizes: readonly number[],
  variants: readonly Variant[],
  samples: ReadonlyMap<Variant, Sample[]>,
): Measurement[] {
  const of = (pair: Pair, rows: number, kind: Kind): Sample[] =>
    samples.get(variants.find((v) => v.pair === pair && v.rows === rows && v.kind === kind) as Variant) ?? [];
  const mb = (mib: readonly number[]): string => `${(median(mib) / MB).toFixed(0)} MB`;
  const out: Measurement[] = [];
  for (const pair of pairs) {
    for (const rows of sizes) {
      for (const kind of ['scored', 'pass-through'] as const) {
        const v = `${PAIR_LABEL[pair]} ${kind}, ${size(rows)}`;
        const ss = of(pair, rows, kind);
        const rss = ss.map((s) => s.stats.max_rss_mib);
        out.push(
          measurement(
            'sources',
            v,
            'throughput',
            'rows/s',
            ss.map((s) => s.rows_per_s),
            kind === 'scored' ? 'rows ÷ summary duration_ms' : 'rows ÷ open to commit',
          ),
          measurement(
            'sources',
            v,
            'wall',
            's',
            ss.map((s) => s.wall_s),
            'whole process',
          ),
          measurement(
            'sources',
            v,
            'CPU',
            's',
            ss.map((s) => s.stats.cpu_user_s + s.stats.cpu_system_s),
            'process.cpuUsage, all threads',
          ),
          measurement(
            'sources',
            v,
            'peak RSS',
            'MiB',
            rss,
            `${mb(rss)}${kind === 'scored' ? '; target ≤ 150 MB' : ', tsx included'}`,
          ),
        );
      }
      const cpu = (kind: Kind): number =>
        median(of(pair, rows, kind).map((s) => s.stats.cpu_user_s + s.stats.cpu_system_s));
      out.push(
        measurement(
          'sources',
          `${PAIR_LABEL[pair]} pass-through / scored CPU, ${size(rows)}`,
          'ratio of CPU',
          'ratio',
          [cpu('pass-through') / cpu('scored')],
          'of medians, whole processes (the server’s excluded): the throughput ratio when CPU-bound, steadier on a loaded machine',
        ),
      );
      const scoredRps = of(pair, rows, 'scored').map((s) => s.rows_per_s);
      const baseRps = of(pair, rows, 'pass-through').map((s) => s.rows_per_s);
      out.push(
        measurement(
          'sources',
          `${PAIR_LABEL[pair]} scored / pass-through, ${size(rows)}`,
          'ratio of throughput',
          'ratio',
          [median(scoredRps) / median(baseRps)],
          `of medians; per round ${scoredRps.map((s, r) => `${((100 * s) / (baseRps[r] ?? NaN)).toFixed(0)} %`).join(', ')}; target ≥ 70 %`,
        ),
      );
    }
    const [small = 0, large = 0] = sizes;
    for (const kind of ['scored', 'pass-through'] as const) {
      const peak = (rows: number): number => median(of(pair, rows, kind).map((s) => s.stats.max_rss_mib));
      out.push(
        measurement(
          'sources',
          `${PAIR_LABEL[pair]} ${kind}, ${size(large)} / ${size(small)}`,
          'ratio of peak RSS',
          'ratio',
          [peak(large) / peak(small)],
          `of medians${kind === 'scored' ? '; target ≤ 110 %' : ''}`,
        ),
      );
    }
  }
  return out;
}
