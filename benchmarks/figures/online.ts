/**
 * Online serving: single-row V2 JSON infer requests from `wrk` (a C load generator in its own process, one
 * thread) at 1, 16 and 64 connections, against three servers started side by side: dynamic batching on (the
 * default), off (`--max-batch-size 0`), and the bare Koa handler running onnxruntime on its main thread
 * (benchmarks/bare-server.ts). Beside them, the same row as a gRPC ModelInfer (raw_input_contents) to the
 * default server's gRPC port from `h2load` (C, one HTTP/2 connection as one gRPC channel, 1/16/64 calls in
 * flight).
 *
 * Each point reports req/s, p50/p99 latency, the server's CPU per request (/proc utime + stime of the server
 * process, all threads, over the load) and the generator's (its own CPU time over its requests). Runs rotate
 * between the servers round by round, and the real server is compared with the bare one measured in the same
 * round (req/s and CPU per request), so the ratios hold on a busy machine too.
 */
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { createServer } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_MODELS_DIR, computeFeatures, readModelVersion } from '../../lib/index.js';
import { OIP_GRPC_DESCRIPTOR } from '../../lib/adapters/oip-grpc-descriptor.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { grpcFrame, h2loadGrpc, tool, wrkLoad, type LoadResult } from '../lib/load.js';
import { measurement, type Measurement } from '../lib/stats.js';
import { startBareServer, startServer, type ServerHandle } from '../lib/processes.js';
import type { FigureContext } from './context.js';

const CONNECTIONS = [1, 16, 64] as const;
const BATCHING = 'dynamic batching';
const NO_BATCHING = 'no batching';
const BARE = 'bare Koa + onnxruntime';
const GRPC = 'dynamic batching, gRPC';
type Mode = typeof BATCHING | typeof NO_BATCHING | typeof BARE | typeof GRPC;

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The single row: the features of the first row of data/weather.csv, and the input's name. */
async function row(): Promise<{ name: string; features: number[] }> {
  const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
  const [header = '', first = ''] = (await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), 'utf8')).split(
    '\n',
  );
  const names = header.split(',');
  const values = first.split(',');
  const record = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  const result = computeFeatures(model.contract.features, record);
  if (!result.ok) throw new Error(result.reason);
  return { name: model.contract.inputs[0]?.name ?? 'features', features: [...result.features] };
}

/** The row as a V2 JSON infer body. */
function jsonBody({ name, features }: { name: string; features: number[] }): string {
  return JSON.stringify({
    inputs: [{ name, shape: [1, features.length], datatype: 'FP32', data: features }],
  });
}

/** The row as a framed gRPC ModelInferRequest with raw_input_contents, encoded by @grpc/proto-loader. */
function grpcBody({ name, features }: { name: string; features: number[] }): Buffer {
  const loaded = loadPackageDefinition(
    fromJSON(OIP_GRPC_DESCRIPTOR, { keepCase: true, longs: Number, enums: String, defaults: true }),
  );
  const Service = (loaded.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  const method = Service.service.ModelInfer;
  if (method === undefined) throw new Error('ModelInfer missing from the descriptor');
  return grpcFrame(
    method.requestSerialize({
      model_name: 'weather',
      inputs: [{ name, datatype: 'FP32', shape: [1, features.length] }],
      raw_input_contents: [Buffer.from(new Float32Array(features).buffer)],
    }),
  );
}

/** ModelInfer calls the server answered with a gRPC status other than OK, from its /metrics. */
async function failedGrpcCalls(server: ServerHandle): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let failed = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('rpc_server_duration_seconds_count{') || !line.includes('rpc_method="ModelInfer"'))
      continue;
    if (!line.includes('rpc_grpc_status_code="0"')) failed += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return failed;
}

interface Point extends LoadResult {
  /** The server's CPU microseconds per request (all threads). */
  serverCpuUs: number;
  /** The generator's CPU microseconds per request. */
  generatorCpuUs: number;
}

export async function online(ctx: FigureContext, seconds: number): Promise<Measurement[]> {
  if (tool('wrk') === undefined) throw new Error('the online figure needs wrk (Debian: apt-get install wrk)');
  const withGrpc = tool('h2load') !== undefined;
  if (!withGrpc) {
    if (!ctx.quick)
      throw new Error('the online figure needs h2load for gRPC (Debian: apt-get install nghttp2-client)');
    ctx.log('  h2load not found (Debian: apt-get install nghttp2-client): no gRPC points in this quick run');
  }
  const modes: Mode[] = withGrpc ? [BATCHING, NO_BATCHING, BARE, GRPC] : [BATCHING, NO_BATCHING, BARE];
  const single = await row();
  const jsonFile = join(ctx.dir, 'online-row.json');
  const grpcFile = join(ctx.dir, 'online-row.grpc');
  await writeFile(jsonFile, jsonBody(single));
  await writeFile(grpcFile, grpcBody(single));
  const grpcPort = await freePort();
  const grpcUrl = `http://127.0.0.1:${grpcPort}/inference.GRPCInferenceService/ModelInfer`;

  const servers = new Map<Mode, ServerHandle>();
  const serverOf = (mode: Mode): ServerHandle => {
    const server = servers.get(mode === GRPC ? BATCHING : mode);
    if (server === undefined) throw new Error(`no server for ${mode}`);
    return server;
  };
  const run = async (mode: Mode, connections: number, s: number): Promise<Point> => {
    const server = serverOf(mode);
    const failedBefore = mode === GRPC ? await failedGrpcCalls(server) : 0;
    const cpu = server.cpuSeconds();
    const r =
      mode === GRPC
        ? await h2loadGrpc(ctx.dir, grpcUrl, grpcFile, connections, s)
        : await wrkLoad(ctx.dir, `${server.url}/v2/models/weather/infer`, jsonFile, connections, s);
    const after = server.cpuSeconds();
    const grpcFailed = mode === GRPC ? (await failedGrpcCalls(server)) - failedBefore : 0;
    const perRequest = (cpuSeconds: number) => (cpuSeconds * 1e6) / Math.max(1, r.requests);
    return {
      ...r,
      errors: r.errors + grpcFailed,
      serverCpuUs: cpu === undefined || after === undefined ? Number.NaN : perRequest(after - cpu),
      generatorCpuUs: perRequest(r.generatorCpu),
    };
  };

  const points = new Map<string, Point[]>();
  try {
    servers.set(BATCHING, await startServer(ctx.dir, ['--grpc-port', String(grpcPort)]));
    servers.set(NO_BATCHING, await startServer(ctx.dir, ['--max-batch-size', '0', '--grpc-port', '0']));
    servers.set(BARE, await startBareServer(ctx.dir));
    // Warm-up, not recorded: JIT, keep-alive sockets, worker sessions.
    for (const mode of modes) await run(mode, 16, 1);
    for (let r = 0; r < ctx.repeats; r++) {
      for (const connections of CONNECTIONS) {
        // Rotate, so that no server always runs first (or right after another one's load).
        const order = modes.map((_, i) => modes[(i + r) % modes.length] as Mode);
        for (const mode of order) {
          // A second at this load first, not recorded (full runs): each point then starts from the same state,
          // not from whatever the previous server's load left (GC debt, sockets, CPU frequency).
          if (!ctx.quick) await run(mode, connections, 1);
          const p = await run(mode, connections, seconds);
          if (p.errors > 0) throw new Error(`online ${mode} c=${connections}: ${p.errors} failed requests`);
          ctx.log(
            `  ${mode} c=${connections} #${r + 1}: ${Math.round(p.rps).toLocaleString('en-US')} req/s, ` +
              `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, server ${p.serverCpuUs.toFixed(0)} µs CPU/req, ` +
              `generator ${p.generatorCpuUs.toFixed(0)} µs CPU/req`,
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
  const of = (mode: Mode, connections: number): Point[] => points.get(`${mode}|${connections}`) ?? [];
  /** Per round, `a`'s value over `b`'s: each ratio compares runs made one after the other, under one load. */
  const paired = (a: Mode, b: Mode, connections: number, value: (p: Point) => number): number[] => {
    const base = of(b, connections).map(value);
    return of(a, connections).map((p, i) => value(p) / (base[i] ?? Number.NaN));
  };
  for (const connections of CONNECTIONS) {
    for (const mode of modes) {
      const ps = of(mode, connections);
      const grpc = mode === GRPC;
      const variant = `${mode}, ${connections} ${grpc ? 'in flight' : 'conn'}`;
      const generator = grpc
        ? `h2load -t1 -c1 -m${connections}, ${seconds} s per run`
        : `wrk -t1 -c${connections}, ${seconds} s per run`;
      out.push(
        measurement(
          'online',
          variant,
          'throughput',
          'req/s',
          ps.map((p) => p.rps),
          generator,
        ),
        measurement(
          'online',
          variant,
          'p50 latency',
          'ms',
          ps.map((p) => p.p50),
        ),
        measurement(
          'online',
          variant,
          'p99 latency',
          'ms',
          ps.map((p) => p.p99),
        ),
        measurement(
          'online',
          variant,
          'server CPU per request',
          'µs',
          ps.map((p) => p.serverCpuUs),
          'server process, all threads (/proc)',
        ),
        measurement(
          'online',
          variant,
          'generator CPU per request',
          'µs',
          ps.map((p) => p.generatorCpuUs),
          grpc ? 'h2load (C)' : 'wrk (C)',
        ),
      );
    }
    for (const mode of [BATCHING, NO_BATCHING] as const) {
      out.push(
        measurement(
          'online',
          `${mode} / bare, ${connections} conn`,
          'req/s ratio',
          'x',
          paired(mode, BARE, connections, (p) => p.rps),
          'per round',
        ),
        measurement(
          'online',
          `${mode} / bare, ${connections} conn`,
          'server CPU per request ratio',
          'x',
          paired(mode, BARE, connections, (p) => p.serverCpuUs),
          'per round',
        ),
      );
    }
    out.push(
      measurement(
        'online',
        `batching factor, ${connections} conn`,
        'on / off req/s',
        'x',
        paired(BATCHING, NO_BATCHING, connections, (p) => p.rps),
        'per round',
      ),
    );
    if (withGrpc)
      out.push(
        measurement(
          'online',
          `gRPC / REST, ${connections} in flight`,
          'req/s ratio',
          'x',
          paired(GRPC, BATCHING, connections, (p) => p.rps),
          'per round; h2load vs wrk',
        ),
      );
  }
  return out;
}
