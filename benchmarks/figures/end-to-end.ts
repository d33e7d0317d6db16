/**
 * Limits and pipeline end to end, on the same input, interleaved in each repeat so that the ratios compare
 * runs made under the same machine conditions:
 *
 * - limit `csv-passthrough`: csv-parse → csv-stringify, file → file (benchmarks/task.ts);
 * - limit `onnx-in-process`: onnxruntime on pre-computed feature batches of 256 rows, no CSV;
 * - pipeline `v2-json`, `v2-binary`: `batch-infer run` CSV → `batch-infer serve` on 127.0.0.1 → CSV, client
 *   and server in separate processes (CPU seconds and peak RSS per side; a fresh server per run);
 * - pipeline `local`: `batch-infer run` scoring in process.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { measurement, median, type Measurement } from '../lib/stats.js';
import { CLI, runChild, runTask, startServer, type ProcessStats } from '../lib/processes.js';
import type { FigureContext } from './context.js';

const PIPELINES = ['v2-json', 'v2-binary', 'local'] as const;
type Variant = 'csv-passthrough' | 'onnx-in-process' | (typeof PIPELINES)[number];

interface Sample {
  rows_per_s: number;
  client?: ProcessStats;
  server?: ProcessStats & { cpu_run_s?: number };
}

async function limit(ctx: FigureContext, input: string, variant: Variant): Promise<Sample> {
  const output = join(ctx.dir, 'passthrough.csv');
  const task =
    variant === 'csv-passthrough' ? { task: 'passthrough', input, output } : { task: 'onnx', input };
  const { result, stats } = await runTask(ctx.dir, task, 20 * 60_000);
  await rm(output, { force: true });
  return { rows_per_s: result.rows / (result.ms / 1000), client: stats };
}

async function pipelineRun(
  ctx: FigureContext,
  input: string,
  rows: number,
  protocol: (typeof PIPELINES)[number],
): Promise<Sample> {
  const output = join(ctx.dir, `out-${protocol}.csv`);
  const summary = join(ctx.dir, `out-${protocol}.summary.json`);
  const server = protocol === 'local' ? undefined : await startServer(ctx.dir);
  try {
    const args = [CLI, 'run', '--input', input, '--output', output, '--summary', summary];
    args.push('--protocol', protocol);
    if (server !== undefined) args.push('--url', server.url);
    const cpuBefore = server?.cpuSeconds();
    const client = await runChild(ctx.dir, [], args, 30 * 60_000);
    const cpuAfter = server?.cpuSeconds();
    const s = JSON.parse(await readFile(summary, 'utf8')) as {
      rows: { read: number; scored: number; rejected: number };
      timings: { duration_ms: number };
      protocol: string;
    };
    if (s.rows.read !== rows || s.rows.scored !== rows || s.protocol !== protocol)
      throw new Error(`pipeline ${protocol}: expected ${rows} rows scored, got ${JSON.stringify(s)}`);
    const serverStats = await server?.stop();
    return {
      rows_per_s: rows / (s.timings.duration_ms / 1000),
      client: client.stats,
      ...(serverStats === undefined
        ? {}
        : {
            server: {
              ...serverStats,
              ...(cpuBefore !== undefined && cpuAfter !== undefined
                ? { cpu_run_s: cpuAfter - cpuBefore }
                : {}),
            },
          }),
    };
  } finally {
    await server?.stop().catch(() => undefined);
    await rm(output, { force: true });
    await rm(summary, { force: true });
  }
}

export async function endToEnd(ctx: FigureContext, rows: number): Promise<Measurement[]> {
  const input = await ctx.input(rows);
  const variants: Variant[] = ['csv-passthrough', 'onnx-in-process', ...PIPELINES];
  const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < ctx.repeats; r++) {
    // Rotate the order each repeat so no variant always runs first (or last) in the round.
    const order = variants.map((_, i) => variants[(i + r) % variants.length] as Variant);
    for (const v of order) {
      const s =
        v === 'csv-passthrough' || v === 'onnx-in-process'
          ? await limit(ctx, input, v)
          : await pipelineRun(ctx, input, rows, v);
      ctx.log(`  ${v} #${r + 1}: ${Math.round(s.rows_per_s).toLocaleString('en-US')} rows/s`);
      samples.get(v)?.push(s);
    }
  }
  const out: Measurement[] = [];
  const size = `${rows.toLocaleString('en-US')} rows`;
  const med = (v: Variant): number => median((samples.get(v) ?? []).map((s) => s.rows_per_s));
  for (const v of variants) {
    const ss = samples.get(v) ?? [];
    const figure = v === 'csv-passthrough' || v === 'onnx-in-process' ? 'limits' : 'pipeline';
    out.push(
      measurement(
        figure,
        v,
        'throughput',
        'rows/s',
        ss.map((s) => s.rows_per_s),
        size,
      ),
    );
    if (figure === 'limits') continue;
    out.push(
      measurement(
        figure,
        v,
        'ratio to csv-passthrough',
        'ratio',
        [med(v) / med('csv-passthrough')],
        'of medians',
      ),
    );
    out.push(
      measurement(
        figure,
        v,
        'ratio to onnx-in-process',
        'ratio',
        [med(v) / med('onnx-in-process')],
        'of medians',
      ),
    );
    const client = ss.flatMap((s) => (s.client === undefined ? [] : [s.client]));
    out.push(
      measurement(
        figure,
        v,
        'client CPU',
        's',
        client.map((c) => c.cpu_user_s + c.cpu_system_s),
        'process.cpuUsage, all threads',
      ),
    );
    out.push(
      measurement(
        figure,
        v,
        'client peak RSS',
        'MiB',
        client.map((c) => c.max_rss_mib),
        'resourceUsage().maxRSS',
      ),
    );
    const server = ss.flatMap((s) => (s.server === undefined ? [] : [s.server]));
    if (server.length === 0) continue;
    const runCpu = server.flatMap((c) => (c.cpu_run_s === undefined ? [] : [c.cpu_run_s]));
    out.push(
      runCpu.length === server.length
        ? measurement(figure, v, 'server CPU', 's', runCpu, 'during the client run, /proc, all threads')
        : measurement(
            figure,
            v,
            'server CPU',
            's',
            server.map((c) => c.cpu_user_s + c.cpu_system_s),
            'whole server life',
          ),
    );
    out.push(
      measurement(
        figure,
        v,
        'server peak RSS',
        'MiB',
        server.map((c) => c.max_rss_mib),
        'whole server life',
      ),
    );
  }
  return out;
}
