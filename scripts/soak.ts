/**
 * The server soak (issue #10 point 5): single-row OIP V2 JSON inference requests from autocannon against a real
 * `batch-infer serve` of the build, after a warm-up of a tenth as many. It passes when no request failed (no
 * connection error, no timeout, no non-2xx), the server counted exactly the rows it was sent, and its live
 * heap grew less than 10 % from the end of the warm-up to the end of the run.
 *
 * The live heap is measured after a full collection forced through the server's inspector (the server runs
 * with `--inspect` on a free loopback port): what a leak grows. Its RSS is reported too, but is not the test:
 * V8 grows the heap to its working size over the first ~70 000 requests and then cycles it by ~70 MiB, so two
 * RSS samples were seen 4 – 22 % apart on a server whose live heap stayed flat.
 *
 * Full size: `npm run soak` (200 000 requests at 64 connections; `--requests` and `--connections` change
 * them), against the built CLI. test/server/soak.test.ts runs the same soak at CI size.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'undici';
import { PACKAGE_ROOT } from '../lib/package-root.js';

export interface SoakOptions {
  /** The server's base URL. */
  url: string;
  /** The server's inspector (`ws://…`), to measure its live heap. */
  inspector: string;
  /** Requests in the measured run. */
  requests: number;
  /** Concurrent connections (each sends its next request when the last is answered). */
  connections: number;
}

export interface SoakResult {
  requests: number;
  failed: { errors: number; timeouts: number; non2xx: number };
  /** Rows the server's `model_predictions_total` grew by during the run: one per request when none is lost. */
  rowsScored: number;
  /** The live heap after a full collection, after the warm-up and after the run. */
  heapAfterWarmupMiB: number;
  heapAfterRunMiB: number;
  /** Live heap growth over the run, as a fraction of the heap after the warm-up. */
  heapGrowth: number;
  rssAfterWarmupMiB: number;
  rssAfterRunMiB: number;
  requestsPerSecond: number;
  latencyP99Ms: number;
  /** True when nothing failed, no row was lost and the live heap grew less than `MAX_HEAP_GROWTH`. */
  ok: boolean;
}

/** The bound the issue sets on memory growth over a soak. */
export const MAX_HEAP_GROWTH = 0.1;

const MiB = 2 ** 20;

const BODY = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0.5, -0.2, 0.1, 0.3, 0.7, -0.7] }],
});

/** One sample of the server's Prometheus text (the first series of that name). */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? Number.NaN);
}

async function metrics(url: string): Promise<{ rss: number; rows: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    rss: sample(text, 'process_resident_memory_bytes'),
    rows: sample(text, 'model_predictions_total'),
  };
}

/**
 * The server's live heap in bytes: a full collection (`HeapProfiler.collectGarbage`, twice, so that what the
 * first one finalized is gone too), then `Runtime.getHeapUsage`, over the inspector protocol.
 */
async function liveHeap(inspector: string): Promise<number> {
  const socket = new WebSocket(inspector);
  const answers = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) answers.get(message.id)?.(message.result);
  });
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${inspector}`)));
  });
  let id = 0;
  const call = (method: string): Promise<unknown> =>
    new Promise((resolve) => {
      answers.set(++id, resolve);
      socket.send(JSON.stringify({ id, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const { usedSize } = (await call('Runtime.getHeapUsage')) as { usedSize: number };
    return usedSize;
  } finally {
    socket.close();
  }
}

function load(url: string, requests: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/v2/models/weather/infer`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections,
    amount: requests,
    timeout: 30,
  });
}

/** Warm-up (a tenth of the run, at least 2 000 requests), then the measured run. */
export async function soak(options: SoakOptions): Promise<SoakResult> {
  const { url, inspector, requests, connections } = options;
  await load(url, Math.max(2_000, Math.round(requests / 10)), connections);
  const before = await metrics(url);
  const heapBefore = await liveHeap(inspector);
  const run = await load(url, requests, connections);
  const after = await metrics(url);
  const heapAfter = await liveHeap(inspector);
  const heapGrowth = (heapAfter - heapBefore) / heapBefore;
  const failed = { errors: run.errors, timeouts: run.timeouts, non2xx: run.non2xx };
  const rowsScored = after.rows - before.rows;
  return {
    requests,
    failed,
    rowsScored,
    heapAfterWarmupMiB: heapBefore / MiB,
    heapAfterRunMiB: heapAfter / MiB,
    heapGrowth,
    rssAfterWarmupMiB: before.rss / MiB,
    rssAfterRunMiB: after.rss / MiB,
    requestsPerSecond: run.requests.average,
    latencyP99Ms: run.latency.p99,
    ok:
      failed.errors + failed.timeouts + failed.non2xx === 0 &&
      rowsScored === requests &&
      heapGrowth < MAX_HEAP_GROWTH,
  };
}

export interface BuiltServer {
  url: string;
  inspector: string;
  /** SIGTERM; resolves with the exit code (again when called again). */
  stop: () => Promise<number | null>;
}

/**
 * `batch-infer serve` from the build on a free loopback port, with its inspector on another, as users run it
 * otherwise: without a test runner's loaders and coverage (NODE_OPTIONS, NODE_V8_COVERAGE).
 */
export async function serveBuilt(): Promise<BuiltServer> {
  const cli = join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && name !== 'NODE_V8_COVERAGE'),
  );
  const child = spawn(
    process.execPath,
    ['--inspect=127.0.0.1:0', cli, 'serve', '--port', '0', '--host', '127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  const [url, inspector] = await new Promise<[string, string]>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const served = /listening on (http:\/\/[\d.:]+)/.exec(stderr)?.[1];
      const inspected = /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
      if (served !== undefined && inspected !== undefined) resolve([served, inspected]);
    });
    void exited.then(() => reject(new Error(`batch-infer serve exited: ${stderr}`)));
  });
  while ((await fetch(`${url}/v2/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
  return {
    url,
    inspector,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '200000' },
      connections: { type: 'string', default: '64' },
    },
  });
  const requests = Number(values.requests);
  const connections = Number(values.connections);
  const server = await serveBuilt();
  try {
    process.stderr.write(`soak: ${requests} requests at ${connections} connections against ${server.url}\n`);
    const result = await soak({ url: server.url, inspector: server.inspector, requests, connections });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`soak: ${result.ok ? 'passed' : 'FAILED'}\n`);
    if (!result.ok) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
