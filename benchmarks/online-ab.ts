/**
 * Online A/B: `batch-infer serve` of two or more builds (each a checkout with its own dist/) and the bare Koa +
 * onnxruntime server, side by side, loaded in turn by `wrk` with single-row V2 JSON requests, in interleaved
 * rounds (order rotated each round). Prints, per connection count, each server's median req/s, p50/p99 and CPU
 * per request, and per round each build's ratio to the bare server and to the first build. How the changes in
 * benchmarks/README.md "Online path" were measured.
 *
 *   npx tsx benchmarks/online-ab.ts --server old=/tmp/base --server new=/tmp/new [--rounds 3] [--seconds 8]
 *     [--connections 16,64] [--args "--max-batch-size 0"] [--out results.json]
 *
 * `--server name=root` may be given more than twice; `--args` are passed to every build's `serve`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_MODELS_DIR, computeFeatures, readModelVersion } from '../lib/index.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { wrkLoad, type LoadResult } from './lib/load.js';
import { startBareServer, startServerFrom, type ServerHandle } from './lib/processes.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16,64' },
    args: { type: 'string', default: '' },
    out: { type: 'string' },
  },
});
const builds = values.server.map((s) => {
  const at = s.indexOf('=');
  if (at < 1) throw new Error(`--server wants name=root, got ${s}`);
  return { name: s.slice(0, at), root: s.slice(at + 1) };
});
if (builds.length === 0) throw new Error('give at least one --server name=root');
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = values.connections.split(',').map(Number);
const extra = values.args.split(' ').filter(Boolean);
const BARE = 'bare';

const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const [header = '', first = ''] = (await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), 'utf8')).split(
  '\n',
);
const record = Object.fromEntries(header.split(',').map((n, i) => [n, first.split(',')[i]]));
const features = computeFeatures(model.contract.features, record);
if (!features.ok) throw new Error(features.reason);
const dir = await mkdtemp(join(tmpdir(), 'batch-infer-online-ab-'));
const bodyFile = join(dir, 'row.json');
await writeFile(
  bodyFile,
  JSON.stringify({
    inputs: [
      {
        name: 'features',
        shape: [1, features.features.length],
        datatype: 'FP32',
        data: [...features.features],
      },
    ],
  }),
);

interface Point extends LoadResult {
  serverCpuUs: number;
  generatorCpuUs: number;
}

const servers = new Map<string, ServerHandle>();
const points = new Map<string, Point[]>();
const load = async (name: string, c: number, s: number): Promise<Point> => {
  const server = servers.get(name);
  if (server === undefined) throw new Error(name);
  const before = server.cpuSeconds() ?? Number.NaN;
  const r = await wrkLoad(dir, `${server.url}/v2/models/weather/infer`, bodyFile, c, s);
  const after = server.cpuSeconds() ?? Number.NaN;
  if (r.errors > 0) throw new Error(`${name} c=${c}: ${r.errors} failed requests`);
  return {
    ...r,
    serverCpuUs: ((after - before) * 1e6) / r.requests,
    generatorCpuUs: (r.generatorCpu * 1e6) / r.requests,
  };
};
try {
  for (const b of builds)
    servers.set(b.name, await startServerFrom(b.root, dir, ['--grpc-port', '0', ...extra]));
  servers.set(BARE, await startBareServer(dir));
  const names = [...servers.keys()];
  for (const name of names) await load(name, 16, 2);
  for (let r = 0; r < rounds; r++) {
    for (const c of connections) {
      for (const name of names.map((_, i) => names[(i + r) % names.length] ?? '')) {
        await load(name, c, 1);
        const p = await load(name, c, seconds);
        points.set(`${name}|${c}`, [...(points.get(`${name}|${c}`) ?? []), p]);
        console.error(
          `#${r + 1} c=${c} ${name.padEnd(10)} ${Math.round(p.rps).toString().padStart(6)} req/s  p50 ${p.p50.toFixed(2)}  p99 ${p.p99.toFixed(2)} ms  server ${p.serverCpuUs.toFixed(1)} µs/req  wrk ${p.generatorCpuUs.toFixed(1)} µs/req`,
        );
      }
    }
  }
} finally {
  for (const s of servers.values()) await s.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

const of = (name: string, c: number) => points.get(`${name}|${c}`) ?? [];
const ratio = (a: string, b: string, c: number, f: (p: Point) => number) =>
  of(a, c).map((p, i) => f(p) / f(of(b, c)[i] as Point));
const fmt = (xs: number[]) =>
  `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
const summary: Record<string, unknown>[] = [];
for (const c of connections) {
  console.log(`\n${c} connections, ${rounds} rounds of ${seconds} s (median, min–max)`);
  for (const name of servers.keys()) {
    const ps = of(name, c);
    const row = {
      connections: c,
      server: name,
      rps: median(ps.map((p) => p.rps)),
      p50_ms: median(ps.map((p) => p.p50)),
      p99_ms: median(ps.map((p) => p.p99)),
      server_cpu_us: median(ps.map((p) => p.serverCpuUs)),
      wrk_cpu_us: median(ps.map((p) => p.generatorCpuUs)),
      rps_vs_bare: name === BARE ? 1 : median(ratio(name, BARE, c, (p) => p.rps)),
      cpu_vs_bare: name === BARE ? 1 : median(ratio(name, BARE, c, (p) => p.serverCpuUs)),
      samples: ps,
    };
    summary.push(row);
    console.log(
      `  ${name.padEnd(10)} ${Math.round(row.rps).toString().padStart(6)} req/s  p50 ${row.p50_ms.toFixed(2)}  p99 ${row.p99_ms.toFixed(2)} ms  ` +
        `server ${row.server_cpu_us.toFixed(1)} µs/req  wrk ${row.wrk_cpu_us.toFixed(1)} µs/req` +
        (name === BARE
          ? ''
          : `  vs bare: req/s ${fmt(ratio(name, BARE, c, (p) => p.rps))}, CPU ${fmt(ratio(name, BARE, c, (p) => p.serverCpuUs))}`),
    );
  }
  const [base, ...others] = builds;
  for (const b of others)
    if (base !== undefined)
      console.log(
        `  ${b.name} / ${base.name}: req/s ${fmt(ratio(b.name, base.name, c, (p) => p.rps))}, CPU/req ${fmt(ratio(b.name, base.name, c, (p) => p.serverCpuUs))}`,
      );
}
if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(summary, null, 2)}\n`);
