/**
 * Online serving: single-row V2 JSON infer requests from autocannon (in the harness process, so it shares the
 * 2 cores with the server) at 1, 16 and 64 connections, against two servers started side by side: dynamic
 * batching on (the default) and off (`--max-batch-size 0`). Runs alternate between the two servers.
 */
import autocannon from 'autocannon';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_MODELS_DIR, computeFeatures, readModelVersion } from '../../lib/index.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { measurement, type Measurement } from '../lib/stats.js';
import { startServer, type ServerHandle } from '../lib/processes.js';
import type { FigureContext } from './context.js';

const CONNECTIONS = [1, 16, 64] as const;
const MODES = { 'dynamic batching': [], 'no batching': ['--max-batch-size', '0'] } as const;
type Mode = keyof typeof MODES;

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
    for (const mode of Object.keys(MODES) as Mode[])
      servers.set(mode, await startServer(ctx.dir, MODES[mode]));
    // Warm-up, not recorded: JIT, keep-alive sockets, worker sessions.
    for (const server of servers.values()) await load(server.url, payload, 16, 1);
    for (let r = 0; r < ctx.repeats; r++) {
      for (const connections of CONNECTIONS) {
        const modes = Object.keys(MODES) as Mode[];
        if (r % 2 === 1) modes.reverse();
        for (const mode of modes) {
          const server = servers.get(mode);
          if (server === undefined) continue;
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
    const on = measurement(
      '',
      '',
      '',
      '',
      (points.get(`dynamic batching|${connections}`) ?? []).map((p) => p.rps),
    );
    const off = measurement(
      '',
      '',
      '',
      '',
      (points.get(`no batching|${connections}`) ?? []).map((p) => p.rps),
    );
    out.push(
      measurement(
        'online',
        `batching factor, ${connections} conn`,
        'on / off req/s',
        'x',
        [on.median / off.median],
        'of medians',
      ),
    );
  }
  return out;
}
