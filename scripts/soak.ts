/**
 * The server soak (issue #10 point 5): single-row OIP V2 JSON inference requests from autocannon against a real
 * `batch-infer serve`, after a warm-up. It passes when no request failed (no connection error, no timeout, no
 * non-2xx), the server counted exactly the rows it was sent, and its resident memory (RSS, read from its own
 * `process_resident_memory_bytes`) grew less than 10 % from the end of the warm-up to the end of the run.
 *
 * Full size: `npm run soak` (200 000 requests at 64 connections; `--requests` and `--connections` change
 * them), against the built CLI. test/server/soak.test.ts runs the same soak at CI size.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';

export interface SoakOptions {
  /** The server's base URL. */
  url: string;
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
  rssAfterWarmupMiB: number;
  rssAfterRunMiB: number;
  /** RSS growth over the run, as a fraction of the RSS after the warm-up. */
  rssGrowth: number;
  requestsPerSecond: number;
  latencyP99Ms: number;
  /** True when nothing failed, no row was lost and RSS grew less than `MAX_RSS_GROWTH`. */
  ok: boolean;
}

/** The bound the issue sets on RSS growth over a soak. */
export const MAX_RSS_GROWTH = 0.1;

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
  const { url, requests, connections } = options;
  await load(url, Math.max(2_000, Math.round(requests / 10)), connections);
  const before = await metrics(url);
  const run = await load(url, requests, connections);
  const after = await metrics(url);
  const rssGrowth = (after.rss - before.rss) / before.rss;
  const failed = { errors: run.errors, timeouts: run.timeouts, non2xx: run.non2xx };
  const rowsScored = after.rows - before.rows;
  return {
    requests,
    failed,
    rowsScored,
    rssAfterWarmupMiB: before.rss / 2 ** 20,
    rssAfterRunMiB: after.rss / 2 ** 20,
    rssGrowth,
    requestsPerSecond: run.requests.average,
    latencyP99Ms: run.latency.p99,
    ok:
      failed.errors + failed.timeouts + failed.non2xx === 0 &&
      rowsScored === requests &&
      rssGrowth < MAX_RSS_GROWTH,
  };
}

/** `batch-infer serve` from the build on a free loopback port; resolves with its URL and a stop function. */
async function serveBuilt(): Promise<{ url: string; stop: () => Promise<void> }> {
  const cli = join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js');
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const match = /listening on (http:\/\/[\d.:]+)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`batch-infer serve exited: ${stderr}`)));
  });
  while ((await fetch(`${url}/v2/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
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
    const result = await soak({ url: server.url, requests, connections });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`soak: ${result.ok ? 'passed' : 'FAILED'}\n`);
    if (!result.ok) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
