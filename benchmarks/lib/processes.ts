/**
 * Child processes for the benchmarks: the real CLI (`dist/bin/batch-infer.js`) for the server and the pipeline
 * client, and `benchmarks/task.ts` (through tsx) for the limits. Every child reports its own CPU time and peak
 * RSS, so client and server are measured per side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

export const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js');

/** Per-process resource use, read inside the child when it exits. */
export interface ProcessStats {
  cpu_user_s: number;
  cpu_system_s: number;
  max_rss_mib: number;
}

/**
 * Preloaded into every child (`node --import <data: URL>`): on exit, writes the process's CPU time
 * (`process.cpuUsage()`, all threads: workers and onnxruntime included) and peak RSS
 * (`resourceUsage().maxRSS`, KiB) to the file named by BENCH_STATS_FILE.
 */
const STATS_PRELOAD = `data:text/javascript,${encodeURIComponent(
  'import { writeFileSync } from "node:fs";' +
    'process.on("exit", () => { const f = process.env.BENCH_STATS_FILE; if (!f) return;' +
    ' const c = process.cpuUsage(); const r = process.resourceUsage();' +
    ' writeFileSync(f, JSON.stringify({ cpu_user_us: c.user, cpu_system_us: c.system, max_rss_kib: r.maxRSS })); });',
)}`;

async function readStats(file: string): Promise<ProcessStats> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as {
    cpu_user_us: number;
    cpu_system_us: number;
    max_rss_kib: number;
  };
  await rm(file, { force: true });
  return {
    cpu_user_s: raw.cpu_user_us / 1e6,
    cpu_system_s: raw.cpu_system_us / 1e6,
    max_rss_mib: raw.max_rss_kib / 1024,
  };
}

/** CPU seconds (user + system, all threads) a live process has used, from /proc; undefined off Linux. */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3; utime, stime are 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wall_s: number;
  stats: ProcessStats;
}

let counter = 0;
function statsFile(dir: string): string {
  counter += 1;
  return join(dir, `stats-${process.pid}-${counter}.json`);
}

let profileDir: string | undefined;

/**
 * From now on every child writes V8 CPU profiles (`--cpu-prof`, one file per thread) to its own directory
 * under `dir`, named after its order and kind: summarize one with `npx tsx benchmarks/profile.ts <that dir>`.
 */
export function profileChildren(dir: string): void {
  profileDir = dir;
}

function profileArgs(kind: string): string[] {
  if (profileDir === undefined) return [];
  counter += 1;
  return ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${String(counter).padStart(3, '0')}-${kind}`)}`];
}

/** A short name for a child's profile directory: the CLI command and protocol, or the script. */
function kindOf(args: readonly string[]): string {
  const script = args.find((a) => a.endsWith('.js') || a.endsWith('.ts')) ?? 'node';
  const name = script.replace(/^.*\//, '').replace(/\.[jt]s$/, '');
  const protocol = args[args.indexOf('--protocol') + 1];
  const command = name === 'batch-infer' ? (args[args.indexOf(script) + 1] ?? '') : name;
  return [command, args.includes('--protocol') ? protocol : undefined].filter(Boolean).join('-');
}

/** Runs `node [nodeArgs] <args>` with the stats preload and waits for it; a timeout kills it. */
export async function runChild(
  dir: string,
  nodeArgs: readonly string[],
  args: readonly string[],
  timeoutMs: number,
): Promise<ChildResult> {
  const file = statsFile(dir);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeArgs, ...profileArgs(kindOf(args)), '--import', STATS_PRELOAD, ...args],
    {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, BENCH_STATS_FILE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const wall_s = (performance.now() - started) / 1000;
  if (code !== 0) {
    throw new Error(`child ${args.join(' ')} exited ${String(code)}:\n${stderr.slice(-4000)}`);
  }
  return { code, stdout, stderr, wall_s, stats: await readStats(file) };
}

/** What benchmarks/task.ts prints: rows processed and the timed milliseconds. */
export interface TaskResult {
  rows: number;
  ms: number;
}

/** Runs `benchmarks/task.ts <json>` through tsx and parses the JSON line it prints. */
export async function runTask(
  dir: string,
  task: Record<string, unknown>,
  timeoutMs: number,
): Promise<{ result: TaskResult; stats: ProcessStats }> {
  const r = await runChild(
    dir,
    ['--import', 'tsx'],
    [join(PACKAGE_ROOT, 'benchmarks', 'task.ts'), JSON.stringify(task)],
    timeoutMs,
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { result: JSON.parse(last) as TaskResult, stats: r.stats };
}

export interface ServerHandle {
  url: string;
  pid: number | undefined;
  /** CPU seconds used so far (from /proc), for deltas around a measured window. */
  cpuSeconds(): number | undefined;
  /** SIGTERM, drain, exit; returns the process's totals (peak RSS over its whole life). */
  stop(): Promise<ProcessStats>;
}

/** Starts `batch-infer serve --port 0 --host 127.0.0.1 [extra]` and reads its URL from the log on stderr. */
export function startServer(dir: string, extra: readonly string[] = []): Promise<ServerHandle> {
  return startListening(dir, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...extra]);
}

/** Starts the `serve` of another build (`root`: a checkout with its own dist/), for A/B comparisons. */
export function startServerFrom(
  root: string,
  dir: string,
  extra: readonly string[] = [],
): Promise<ServerHandle> {
  const cli = join(root, 'dist', 'bin', 'batch-infer.js');
  return startListening(dir, [cli, 'serve', '--port', '0', '--host', '127.0.0.1', ...extra]);
}

/** Starts benchmarks/bare-server.ts (through tsx), the online figure's yardstick. */
export function startBareServer(dir: string): Promise<ServerHandle> {
  return startListening(dir, ['--import', 'tsx', join(PACKAGE_ROOT, 'benchmarks', 'bare-server.ts')]);
}

/** Starts `node <args>` and reads the URL from its `listening on <url>` line on stderr. */
async function startListening(dir: string, args: readonly string[]): Promise<ServerHandle> {
  const file = statsFile(dir);
  const child: ChildProcess = spawn(
    process.execPath,
    [...profileArgs(kindOf(args)), '--import', STATS_PRELOAD, ...args],
    {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, BENCH_STATS_FILE: file },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = once(child, 'exit');
  const stderr = child.stderr;
  if (stderr === null) throw new Error('server child has no stderr');
  const lines = createInterface({ input: stderr });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not report its URL within 30 s')), 30_000);
    lines.on('line', (line) => {
      const m = /listening on (http:\/\/[^\s"]+)/.exec(line);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${String(code)} before listening`));
    });
  });
  // Keep draining stderr so the child never blocks on a full pipe.
  lines.on('line', () => undefined);
  let stopped: Promise<ProcessStats> | undefined;
  return {
    url,
    pid: child.pid,
    cpuSeconds: () => procCpuSeconds(child.pid),
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        await exited;
        return readStats(file);
      })();
      return stopped;
    },
  };
}
