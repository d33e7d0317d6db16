/**
 * A/B of two builds of batch-infer on the same weather CSV: `batch-infer run` of the old and the new build,
 * alternating (old first in even rounds, new first in odd ones), per protocol; the HTTP protocols against a
 * fresh `serve --workers 2` of the SAME build on 127.0.0.1 (a free port) per run. Per run: wall time (the
 * summary's `timings.duration_ms`), client user + sys CPU and peak RSS (`/usr/bin/time -f '%U %S %M'`),
 * server CPU during the client run and peak RSS (/proc: utime + stime delta, VmHWM); and per round, whether
 * the two outputs are byte-identical (`cmp`). No timing assertion: it fails only if a run fails or the outputs
 * differ.
 *
 *   npx tsx benchmarks/ab.ts --old /tmp/base --new . --rows 1000000 --rounds 3 \
 *     --protocols local,v2-binary,v2-json [--input weather.csv] [--seed 7] [--out ab.json]
 *
 * `--old` / `--new` are package roots with a built `dist/`: a `git worktree` of the old commit after
 * `npm ci && npm run build`, or a frozen snapshot of the new one, so that a rebuild of the working tree during
 * the runs changes nothing:
 *
 *   mkdir /tmp/ab-new && git archive HEAD | tar -x -C /tmp/ab-new && git rev-parse HEAD > /tmp/ab-new/AB_COMMIT
 *   ln -s "$PWD/node_modules" /tmp/ab-new/node_modules && (cd /tmp/ab-new && npx tsc -p tsconfig.build.json)
 *
 * Without `--input`, a weather CSV of `--rows` rows is generated (generate.ts). The report (`--out`) records
 * each build's commit (git HEAD, else the AB_COMMIT file).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { DEFAULT_SEED, generateCsv } from './generate.js';
import { machineInfo, median } from './lib/stats.js';
import { procCpuSeconds } from './lib/processes.js';

const { values } = parseArgs({
  options: {
    old: { type: 'string', default: '/tmp/base' },
    new: { type: 'string', default: PACKAGE_ROOT },
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    protocols: { type: 'string', default: 'local,v2-binary,v2-json' },
    input: { type: 'string' },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    workers: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const protocols = values.protocols.split(',');
const builds = { old: resolve(values.old), new: resolve(values.new) } as const;
type Side = keyof typeof builds;
for (const [side, root] of Object.entries(builds))
  if (!existsSync(join(root, 'dist', 'bin', 'batch-infer.js')))
    throw new Error(`--${side} ${root}: no dist/bin/batch-infer.js (build it first)`);

const started = performance.now();
const log = (m: string): void =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${m}`);
const cli = (side: Side): string => join(builds[side], 'dist', 'bin', 'batch-infer.js');

interface Server {
  url: string;
  child: ChildProcess;
}

/** `serve` of one build on 127.0.0.1, port 0; the URL from its `listening on` log line. */
async function startServer(side: Side): Promise<Server> {
  const child = spawn(
    process.execPath,
    [cli(side), 'serve', '--port', '0', '--host', '127.0.0.1', '--workers', values.workers],
    { cwd: builds[side], stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${side} server: no URL within 60 s`)), 60_000);
    lines.on('line', (line) => {
      const m = /listening on (http:\/\/[^\s"]+)/.exec(line);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${side} server exited ${String(code)} before listening`));
    });
  });
  return { url, child };
}

/** Peak RSS of a live process (VmHWM, MiB), from /proc. */
function peakRssMib(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/status`)) return undefined;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] === undefined ? undefined : Number(m[1]) / 1024;
}

interface Run {
  side: Side;
  protocol: string;
  round: number;
  duration_ms: number;
  rows_per_s: number;
  client_user_s: number;
  client_sys_s: number;
  client_peak_rss_mib: number;
  server_cpu_s?: number;
  server_peak_rss_mib?: number;
}

async function runOnce(dir: string, input: string, side: Side, protocol: string, round: number) {
  const output = join(dir, `out-${side}.csv`);
  const summary = join(dir, `out-${side}.summary.json`);
  const timeFile = join(dir, `time-${side}.txt`);
  const server = protocol === 'local' ? undefined : await startServer(side);
  try {
    const args = ['run', '--input', input, '--output', output, '--summary', summary];
    args.push('--protocol', protocol, ...(server === undefined ? [] : ['--url', server.url]));
    const cpuBefore = procCpuSeconds(server?.child.pid);
    const client = spawn(
      '/usr/bin/time',
      ['-f', '%U %S %M', '-o', timeFile, process.execPath, cli(side), ...args],
      { cwd: builds[side], stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    client.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    const timer = setTimeout(() => client.kill('SIGKILL'), 30 * 60_000);
    const [code] = (await once(client, 'exit')) as [number | null];
    clearTimeout(timer);
    const cpuAfter = procCpuSeconds(server?.child.pid);
    if (code !== 0) throw new Error(`${side} ${protocol} run exited ${String(code)}:\n${stderr}`);
    const [user = NaN, sys = NaN, rssKib = NaN] =
      (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
    const s = JSON.parse(await readFile(summary, 'utf8')) as {
      rows: { read: number; scored: number };
      timings: { duration_ms: number };
      protocol: string;
    };
    if (s.rows.scored !== rows || s.protocol !== protocol)
      throw new Error(`${side} ${protocol}: ${JSON.stringify(s.rows)} via ${s.protocol}`);
    const run: Run = {
      side,
      protocol,
      round,
      duration_ms: s.timings.duration_ms,
      rows_per_s: rows / (s.timings.duration_ms / 1000),
      client_user_s: user,
      client_sys_s: sys,
      client_peak_rss_mib: rssKib / 1024,
    };
    if (server !== undefined) {
      if (cpuBefore !== undefined && cpuAfter !== undefined) run.server_cpu_s = cpuAfter - cpuBefore;
      const peak = peakRssMib(server.child.pid);
      if (peak !== undefined) run.server_peak_rss_mib = peak;
    }
    return { run, output };
  } finally {
    if (server !== undefined) {
      server.child.kill('SIGTERM');
      if (server.child.exitCode === null) await once(server.child, 'exit');
    }
    await rm(summary, { force: true });
    // Side files of both builds: the old names (`out.csv.metrics.prom`) and the new (`out.metrics.prom`, #19).
    const name = output.replace(/\.csv$/, '');
    for (const file of [`${output}.metrics.prom`, `${name}.metrics.prom`, `${name}.rejects.csv`])
      await rm(file, { force: true });
  }
}

const dir = await mkdtemp(join(tmpdir(), 'batch-infer-ab-'));
const runs: Run[] = [];
const identical: { protocol: string; round: number; identical: boolean }[] = [];
try {
  let input = values.input;
  if (input === undefined) {
    input = join(dir, `weather-${rows}-s${values.seed}.csv`);
    log(`generating ${rows.toLocaleString('en-US')} weather rows, seed ${values.seed}`);
    await generateCsv(input, rows, Number(values.seed));
  }
  for (const protocol of protocols) {
    for (let round = 0; round < rounds; round++) {
      const order: Side[] = round % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
      const outputs: Partial<Record<Side, string>> = {};
      for (const side of order) {
        const { run, output } = await runOnce(dir, input, side, protocol, round);
        runs.push(run);
        outputs[side] = output;
        log(
          `${protocol} #${round + 1} ${side}: ${run.duration_ms} ms, client ${(run.client_user_s + run.client_sys_s).toFixed(1)} s CPU, ${run.client_peak_rss_mib.toFixed(0)} MiB` +
            (run.server_cpu_s === undefined
              ? ''
              : `; server ${run.server_cpu_s.toFixed(1)} s CPU, ${run.server_peak_rss_mib?.toFixed(0) ?? '?'} MiB`),
        );
      }
      const same = await promisify(execFile)('cmp', [outputs.old as string, outputs.new as string]).then(
        () => true,
        () => false,
      );
      identical.push({ protocol, round, identical: same });
      if (!same) log(`${protocol} #${round + 1}: OUTPUTS DIFFER`);
      await rm(outputs.old as string, { force: true });
      await rm(outputs.new as string, { force: true });
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** The commit a build was made from: its git HEAD, else an AB_COMMIT file (a `git archive` snapshot), else null. */
function commitOf(root: string): string | null {
  try {
    return execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    const file = join(root, 'AB_COMMIT');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  }
}

const fmt = (xs: number[], digits: number): string =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)} – ${Math.max(...xs).toFixed(digits)})`;
const table: string[] = [
  '| protocol | metric | old: median (min – max) | new: median (min – max) | new / old (medians) | new / old per round |',
  '| --- | --- | --- | --- | --- | --- |',
];
const metrics: [string, (r: Run) => number | undefined, number][] = [
  ['wall s (duration_ms)', (r) => r.duration_ms / 1000, 2],
  ['client CPU s (user + sys)', (r) => r.client_user_s + r.client_sys_s, 2],
  ['client peak RSS MiB', (r) => r.client_peak_rss_mib, 0],
  ['server CPU s during run', (r) => r.server_cpu_s, 2],
  ['server peak RSS MiB', (r) => r.server_peak_rss_mib, 0],
];
for (const protocol of protocols) {
  for (const [name, get, digits] of metrics) {
    const of = (side: Side): number[] =>
      runs
        .filter((r) => r.protocol === protocol && r.side === side)
        .sort((a, b) => a.round - b.round)
        .flatMap((r) => {
          const v = get(r);
          return v === undefined ? [] : [v];
        });
    const [a, b] = [of('old'), of('new')];
    if (a.length === 0 || b.length === 0) continue;
    const paired = a.map((x, i) => ((b[i] ?? NaN) / x).toFixed(3)).join(', ');
    table.push(
      `| ${protocol} | ${name} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${(median(b) / median(a)).toFixed(3)} | ${paired} |`,
    );
  }
  const ok = identical.filter((i) => i.protocol === protocol);
  table.push(
    `| ${protocol} | outputs byte-identical | | | ${ok.filter((i) => i.identical).length} of ${ok.length} rounds | |`,
  );
}
console.log(table.join('\n'));

const report = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  config: {
    builds,
    commits: { old: commitOf(builds.old), new: commitOf(builds.new) },
    rows,
    rounds,
    protocols,
    seed: Number(values.seed),
    workers: Number(values.workers),
  },
  wall_s: (performance.now() - started) / 1000,
  runs,
  identical,
};
if (values.out !== undefined) {
  await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${values.out}`);
}
if (identical.some((i) => !i.identical)) process.exitCode = 1;
