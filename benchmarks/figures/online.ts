/**
 * Online serving: single-row V2 JSON infer requests from autocannon (in the harness process, so it shares the
 * 2 cores with the server) at 1, 16 and 64 connections, against three servers started side by side: dynamic
 * batching on (the default), off (`--max-batch-size 0`), and the ceiling, a bare Koa handler running
 * onnxruntime on its main thread (benchmarks/bare-server.ts). Runs rotate between the servers, and each is
 * reported as a ratio to the ceiling measured in the same round, so the ratios hold on a busy machine too.
 *
 * Beside them, the same single row as a gRPC ModelInfer (raw_input_contents) to a fourth, default server's gRPC
 * port (issue #18), from a grpc-js client in the harness process keeping 1, 16 or 64 calls in flight on one
 * HTTP/2 connection: its req/s, the ratio to REST's in the same round, and the server's CPU per request for
 * both (the load generators differ, and on 2 cores the client's own cost limits req/s; CPU per request is the
 * server's side alone).
 */
import autocannon from 'autocannon';
import {
  credentials,
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_MODELS_DIR, computeFeatures, readModelVersion } from '../../lib/index.js';
import { OIP_GRPC_DESCRIPTOR } from '../../lib/adapters/oip-grpc-descriptor.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { measurement, type Measurement } from '../lib/stats.js';
import { startBareServer, startServer, type ServerHandle } from '../lib/processes.js';
import type { FigureContext } from './context.js';

const CONNECTIONS = [1, 16, 64] as const;
/** The gRPC server's port, free when the figure starts. */
let grpcPort = 0;
const GRPC: Mode = 'dynamic batching, gRPC';
const MODES = {
  'dynamic batching': (dir: string) => startServer(dir, ['--grpc-port', '0']),
  'no batching': (dir: string) => startServer(dir, ['--max-batch-size', '0', '--grpc-port', '0']),
  'bare Koa + onnxruntime (ceiling)': (dir: string) => startBareServer(dir),
  'dynamic batching, gRPC': (dir: string) => startServer(dir, ['--grpc-port', String(grpcPort)]),
} as const;
type Mode = keyof typeof MODES;
const CEILING: Mode = 'bare Koa + onnxruntime (ceiling)';

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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
  /** The server's CPU milliseconds per request, when it could be read. */
  cpuPerRequest?: number;
}

/** The JSON body's single row as a gRPC ModelInferRequest with raw_input_contents. */
function grpcRequest(payload: string): object {
  const input = (JSON.parse(payload) as { inputs: { name: string; shape: number[]; data: number[] }[] })
    .inputs[0];
  if (input === undefined) throw new Error('no input');
  return {
    model_name: 'weather',
    inputs: [{ name: input.name, datatype: 'FP32', shape: input.shape }],
    raw_input_contents: [Buffer.from(new Float32Array(input.data).buffer)],
  };
}

type InferCall = (request: object, callback: (error: Error | null) => void) => void;

/** A grpc-js client of the Open Inference Protocol's service: its ModelInfer, and close. */
function grpcClient(target: string): { infer: InferCall; close(): void } {
  const loaded = loadPackageDefinition(
    fromJSON(OIP_GRPC_DESCRIPTOR, {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  const Service = (loaded.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  const client = new Service(target, credentials.createInsecure());
  return {
    infer: (client as unknown as { ModelInfer: InferCall }).ModelInfer.bind(client),
    close: () => client.close(),
  };
}

/** `connections` ModelInfer calls kept in flight on one channel for `seconds`; latencies rounded as autocannon's. */
async function grpcLoad(
  infer: InferCall,
  request: object,
  connections: number,
  seconds: number,
): Promise<Point> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await new Promise<void>((resolve) =>
          infer(request, (error) => {
            if (error !== null) errors++;
            resolve();
          }),
        );
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    rps: latencies.length / ((performance.now() - started) / 1000),
    p50: at(0.5),
    p99: at(0.99),
    errors,
  };
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
  const request = grpcRequest(payload);
  grpcPort = await freePort();
  const grpc = grpcClient(`127.0.0.1:${grpcPort}`);
  const run = async (mode: Mode, server: ServerHandle, connections: number, s: number): Promise<Point> => {
    const cpu = server.cpuSeconds();
    const p =
      mode === GRPC
        ? await grpcLoad(grpc.infer, request, connections, s)
        : await load(server.url, payload, connections, s);
    const after = server.cpuSeconds();
    return cpu === undefined || after === undefined
      ? p
      : { ...p, cpuPerRequest: ((after - cpu) * 1000) / (p.rps * s) };
  };
  const servers = new Map<Mode, ServerHandle>();
  const points = new Map<string, Point[]>();
  try {
    for (const mode of Object.keys(MODES) as Mode[]) servers.set(mode, await MODES[mode](ctx.dir));
    // Warm-up, not recorded: JIT, keep-alive sockets, worker sessions.
    for (const [mode, server] of servers) await run(mode, server, 16, 1);
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
          await run(mode, server, connections, 1);
          const p = await run(mode, server, connections, seconds);
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
    grpc.close();
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
    for (const mode of ['dynamic batching', GRPC] as const)
      out.push(
        measurement(
          'online',
          `${mode}, ${connections} conn`,
          'server CPU per request',
          'ms',
          (points.get(`${mode}|${connections}`) ?? []).map((p) => p.cpuPerRequest ?? Number.NaN),
          'server process, all threads',
        ),
      );
    out.push(
      measurement(
        'online',
        `gRPC / REST, ${connections} conn`,
        'gRPC / REST req/s',
        'x',
        paired(GRPC, 'dynamic batching'),
        'per round; different load generators',
      ),
    );
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
