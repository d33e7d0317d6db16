/**
 * Load generators for the online figure, run as their own processes so that what they cost is theirs, not the
 * harness's: `wrk` (HTTP/1.1, C; Debian package `wrk`) and `h2load` (HTTP/2, C; Debian package
 * `nghttp2-client`), which speaks gRPC when given the framed protobuf message as its body and gRPC's headers.
 *
 * Each run reports requests per second, latency percentiles and the generator's own CPU time, read from
 * /proc: the generator runs under `sh`, which waits for it and then prints its own /proc stat, whose `cutime`
 * and `cstime` are the CPU time of the children it waited for.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One measured load: its rate, latency (ms) and what the generator used. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Socket errors, timeouts and non-2xx answers (gRPC: failed streams; gRPC status codes are checked apart). */
  errors: number;
  /** CPU seconds (user + system, all threads) the generator used, start-up included. */
  generatorCpu: number;
}

/** The path of a Debian tool, or undefined when it is not installed. */
export function tool(name: 'wrk' | 'h2load'): string | undefined {
  for (const dir of ['/usr/bin', '/usr/local/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const HZ = 100;

/**
 * Runs `command args` under `sh`, which prints its own /proc stat once the command has exited: returns the
 * command's stdout and the CPU seconds it used (the shell's `cutime` + `cstime`, fields 16 and 17).
 */
async function measured(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  env: Record<string, string> = {},
) {
  const marker = '--- stat ---';
  const child = spawn(
    '/bin/sh',
    ['-c', `"$@"; code=$?; echo '${marker}'; cat /proc/$$/stat; exit $code`, 'sh', command, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const at = stdout.lastIndexOf(marker);
  if (code !== 0 || at < 0)
    throw new Error(`${command} ${args.join(' ')} exited ${String(code)}:\n${stderr}${stdout.slice(-2000)}`);
  const stat = stdout.slice(at + marker.length).trim();
  // Fields after the command name (which may hold spaces): state is field 3, so cutime (16) is index 13.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[13]) + Number(fields[14])) / HZ;
  return { stdout: stdout.slice(0, at), stderr, cpu };
}

/**
 * wrk's script: every request is a POST of the body in the file named by BENCH_BODY_FILE; at the end, one JSON
 * line with the counts and latency percentiles (µs) from wrk's own histogram.
 */
const WRK_SCRIPT = `
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`;

/** Writes wrk's script into `dir` (once) and returns its path. */
async function wrkScript(dir: string): Promise<string> {
  const path = join(dir, 'wrk-post.lua');
  if (!existsSync(path)) await writeFile(path, WRK_SCRIPT);
  return path;
}

/**
 * `wrk -t1 -c<connections> -d<seconds>s`: single-threaded (one event loop, as the server's), keep-alive
 * connections each with one request in flight, POSTing the file `bodyFile` as JSON to `url`.
 */
export async function wrkLoad(
  dir: string,
  url: string,
  bodyFile: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const wrk = tool('wrk');
  if (wrk === undefined) throw new Error('wrk is not installed (Debian: apt-get install wrk)');
  const script = await wrkScript(dir);
  const run = await measured(
    wrk,
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url],
    (seconds + 30) * 1000,
    { BENCH_BODY_FILE: bodyFile },
  );
  const line = run.stdout.trim().split('\n').pop() ?? '';
  const r = JSON.parse(line) as {
    requests: number;
    duration_us: number;
    errors: number;
    non2xx: number;
    p50_us: number;
    p99_us: number;
  };
  const elapsed = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds: elapsed,
    rps: r.requests / elapsed,
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    errors: r.errors + r.non2xx,
    generatorCpu: run.cpu,
  };
}

/** A gRPC message as it travels in an HTTP/2 DATA frame: not compressed, its length, then its bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The q-quantile (nearest rank) of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * `h2load -t1 -c1 -m<streams> -D<seconds>`: one HTTP/2 connection (as one gRPC channel) keeping `streams` calls
 * in flight, each a POST of the framed message in `bodyFile` to the unary method `url` with gRPC's headers.
 * Latency percentiles come from h2load's per-request log. h2load knows HTTP statuses only: a gRPC call that
 * fails still answers 200, so the caller checks the server's gRPC status codes.
 */
export async function h2loadGrpc(
  dir: string,
  url: string,
  bodyFile: string,
  streams: number,
  seconds: number,
): Promise<LoadResult> {
  const h2load = tool('h2load');
  if (h2load === undefined)
    throw new Error('h2load is not installed (Debian: apt-get install nghttp2-client)');
  const log = join(dir, 'h2load.log');
  const run = await measured(
    h2load,
    [
      '-t1',
      '-c1',
      `-m${streams}`,
      `-D${seconds}`,
      '-d',
      bodyFile,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      `--log-file=${log}`,
      url,
    ],
    (seconds + 30) * 1000,
  );
  const summary = parseH2loadSummary(run.stdout);
  const latencies = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => Number(line.split('\t')[2]) / 1000)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
  return {
    ...summary,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    generatorCpu: run.cpu,
  };
}

/** Seconds per unit of h2load's durations, which it prints in whichever of these reads best. */
const H2LOAD_UNITS: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1 };

/**
 * The counts in h2load's summary: its run's duration (printed as `996.61ms` under a second, `8.00s` above),
 * rate, completed requests, and the failed ones (h2load's `failed`, or the done ones that did not succeed).
 */
export function parseH2loadSummary(
  stdout: string,
): Pick<LoadResult, 'requests' | 'seconds' | 'rps' | 'errors'> {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(stdout);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  if (finished === null || counts === null) throw new Error(`unexpected h2load output:\n${stdout}`);
  const done = Number(counts[2]);
  return {
    requests: done,
    seconds: Number(finished[1]) * (H2LOAD_UNITS[finished[2] ?? 's'] ?? 1),
    rps: Number(finished[3]),
    // `failed` includes HTTP-level failures and its subsets `errored` (resets, network) and `timeout`.
    errors: Math.max(Number(counts[4]), done - Number(counts[3])),
  };
}
