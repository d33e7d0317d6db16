/**
 * Online serving: single-row V2 JSON infer requests from autocannon (in the harness process, so it shares the
 * 2 cores with the server) at 1, 16 and 64 connections, against three servers started side by side: dynamic
 * batching on (the default), off (`--max-batch-size 0`), and the ceiling, a bare Koa handler running
 * onnxruntime on its main thread (benchmarks/bare-server.ts). Runs rotate between the servers, and each is
 * reported as a ratio to the ceiling measured in the same round, so the ratios hold on a busy machine too.
 */
import autocannon from 'autocannon';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_MODELS_DIR, computeFeatures, readModelVersion } from '../../lib/index.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { measurement, type Measurement } from '../lib/stats.js';
import { startBareServer, startServer, type ServerHandle } from '../lib/processes.js';
import type { FigureContext } from './context.js';

const CONNECTIONS = [1, 16, 64] as const;
const MODES = {
  'dynamic batching': (dir: string) => startServer(dir),
  'no batching': (dir: string) => startServer(dir, ['--max-batch-size', '0']),
  'bare Koa + onnxruntime (ceiling)': (dir: string) => startBareServer(dir),
} as const;
type Mode = keyof typeof MODES;
const CEILING: Mode = 'bare Koa + onnxruntime (ceiling)';

/** A single-row V2 JSON infer body: the features of the first row of data/weather.csv. */
async function body(): Promise<string> {
  const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
  const [header = '', first = ''] = (await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), 'utf8')).split(
    '\n',
  );
  const names = header.split(',');
  const values = first.split(',');
  const record = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  const result = computeFeatures(model.contract.features, record);
  if (!result.ok) throw new Error(result.reason);
  const width = model.contract.features.length;
  return JSON.stringify({
    inputs: [
      {
        name: model.contract.inputs[0]?.name ?? 'features',
        shape: [1, width],
        datatype: 'FP32',
        data: [...result.features],
      },
    ],
  });
}

interface Point {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, payload: string, connections: number, seconds: number): Promise<Point> {
  const result = await autocannon({
    url: `${url}/v2/models/weather/infer`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
  });
  return {
    rps: result.requests.total / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export async function online(ctx: FigureContext, seconds: number): Promise<Measurement[]> {
  const payload = await body();
  const servers = new Map<Mode, ServerHandle>();
  const points = new Map<string, Point[]>();
  try {
    for (const mode of Object.keys(MODES) as Mode[]) servers.set(mode, await MODES[mode](ctx.dir));
    // Warm-up, not recorded: JIT, keep-alive sockets, worker sessions.
    for (const server of servers.values()) await load(server.url, payload, 16, 1);
    for (let r = 0; r < ctx.repeats; r++) {
      for (const connections of CONNECTIONS) {
        const all = Object.keys(MODES) as Mode[];
        // Rotate, so that no server always runs first (or right after another one's load).
        const modes = all.map((_, i) => all[(i + r) % all.length] as Mode);
        for (const mode of modes) {
          const server = servers.get(mode);
          if (server === undefined) continue;
          // A second at this load first, not recorded: each point then starts from the same state, not from
          // whatever the previous server's load left (GC debt, sockets, CPU frequency).
          await load(server.url, payload, connections, 1);
          const p = await load(server.url, payload, connections, seconds);
          if (p.errors > 0) throw new Error(`online ${mode} c=${connections}: ${p.errors} failed requests`);
          ctx.log(
            `  ${mode} c=${connections} #${r + 1}: ${Math.round(p.rps).toLocaleString('en-US')} req/s, p99 ${p.p99} ms`,
          );
          const key = `${mode}|${connections}`;
          points.set(key, [...(points.get(key) ?? []), p]);
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop().catch(() => undefined);
  }
  const out: Measurement[] = [];
  for (const connections of CONNECTIONS) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const ps = points.get(`${mode}|${connections}`) ?? [];
      const variant = `${mode}, ${connections} conn`;
      out.push(
        measurement(
          'online',
          variant,
          'throughput',
          'req/s',
          ps.map((p) => p.rps),
          `${seconds} s per run`,
        ),
      );
      out.push(
        measurement(
          'online',
          variant,
          'p50 latency',
          'ms',
          ps.map((p) => p.p50),
        ),
      );
      out.push(
        measurement(
          'online',
          variant,
          'p99 latency',
          'ms',
          ps.map((p) => p.p99),
        ),
      );
    }
    // Paired by round: each ratio compares runs made one after the other, under the same machine load.
    const rps = (mode: Mode): number[] => (points.get(`${mode}|${connections}`) ?? []).map((p) => p.rps);
    const paired = (a: Mode, b: Mode): number[] => {
      const base = rps(b);
      return rps(a).map((v, i) => v / (base[i] ?? Number.NaN));
    };
    out.push(
      measurement(
        'online',
        `batching factor, ${connections} conn`,
        'on / off req/s',
        'x',
        paired('dynamic batching', 'no batching'),
        'per round',
      ),
    );
    for (const mode of ['dynamic batching', 'no batching'] as const)
      out.push(
        measurement(
          'online',
          `${mode}, ${connections} conn`,
          'ratio to ceiling',
          'ratio',
          paired(mode, CEILING),
          'per round',
        ),
      );
  }
  return out;
}
