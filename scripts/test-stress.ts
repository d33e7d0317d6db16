/**
 * `npm run test:stress` (issue #20): the tests run while CPU hogs keep every core busy, as on a shared CI
 * machine, so that a test whose outcome depends on how fast the machine is fails here, every time, rather than
 * now and then in someone's `npm test`.
 *
 * The hogs are Debian's `stress-ng --cpu N` when it is installed, otherwise N Node processes that spin; N is
 * the number of cores. tap runs as `npm test` runs it (its own parallelism, per-file timeout and configuration)
 * on the files given, by default the suites where timing matters (servers, worker threads, child processes,
 * sockets, retries and timeouts): server, pipeline, reliability, streams, cli, testing, monitoring and finetune.
 * It exits with tap's status; the hogs are stopped however it ends.
 *
 * Usage: npm run test:stress [-- [--hogs N] [tap arguments: files or directories…]]
 * @example npm run test:stress -- test                    # the whole suite under load
 * @example npm run test:stress -- --hogs 4 test/server    # four hogs, one directory
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-root.js';

/** The suites run by default. */
const DEFAULT_SUITES = [
  'test/server',
  'test/pipeline',
  'test/reliability',
  'test/streams',
  'test/cli',
  'test/testing',
  'test/monitoring',
  'test/finetune',
];

/**
 * A CPU hog for machines without stress-ng. It also stops by itself once its parent is gone (its parent process
 * id changes), should this script be killed before it can stop it.
 */
const NODE_HOG = `const parent = process.ppid; for (;;) { for (let i = 0; i < 1e8; i++); if (process.ppid !== parent) break; }`;

interface Hogs {
  kind: string;
  stop(): void;
}

/**
 * tap given a directory runs every file in it, helpers included; `npm test` runs only `*.test.ts` (the `include`
 * of package.json's tap config). So directories become their test files; files and options pass as they are.
 */
function testFiles(args: readonly string[]): string[] {
  return args.flatMap((arg) => {
    if (arg.startsWith('-') || !statSync(join(PACKAGE_ROOT, arg), { throwIfNoEntry: false })?.isDirectory())
      return [arg];
    return readdirSync(join(PACKAGE_ROOT, arg), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => join(arg, file))
      .sort();
  });
}

function hasStressNg(): boolean {
  return spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts `count` CPU hogs in a process group of their own, so that stopping them reaches stress-ng's forked
 * workers too. stress-ng gets a time limit as well, should this script be killed before it can stop them.
 */
function startHogs(count: number): Hogs {
  const stressNg = hasStressNg();
  const children: ChildProcess[] = stressNg
    ? [
        spawn('stress-ng', ['--cpu', String(count), '--timeout', '4h', '--quiet'], {
          detached: true,
          stdio: 'ignore',
        }),
      ]
    : Array.from({ length: count }, () =>
        spawn(process.execPath, ['-e', NODE_HOG], { detached: true, stdio: 'ignore' }),
      );
  return {
    kind: stressNg ? `stress-ng --cpu ${count}` : `${count} spinning Node processes`,
    stop() {
      for (const child of children) {
        if (child.pid === undefined || child.exitCode !== null) continue;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

function main(): void {
  // `--hogs N` is this script's; every other argument is tap's.
  const args = process.argv.slice(2);
  let hogsArg = String(availableParallelism());
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--hogs') hogsArg = args[++i] ?? '';
    else if (arg.startsWith('--hogs=')) hogsArg = arg.slice('--hogs='.length);
    else positionals.push(arg);
  }
  const count = Number(hogsArg);
  if (!Number.isInteger(count) || count < 1) {
    process.stderr.write(`test:stress: --hogs must be an integer ≥ 1, got ${JSON.stringify(hogsArg)}\n`);
    process.exitCode = 2;
    return;
  }
  const tapArgs = testFiles(
    positionals.some((a) => !a.startsWith('-')) ? positionals : [...positionals, ...DEFAULT_SUITES],
  );
  const hogs = startHogs(count);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  process.stderr.write(`test:stress: ${hogs.kind} running; load average ${load()}\n`);
  process.stderr.write(`test:stress: tap on ${tapArgs.filter((a) => !a.startsWith('-')).length} files\n`);

  const tap = spawn(join(PACKAGE_ROOT, 'node_modules', '.bin', 'tap'), tapArgs, {
    cwd: PACKAGE_ROOT,
    stdio: 'inherit',
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    tap.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => hogs.stop());
  tap.on('error', (err) => {
    process.stderr.write(`test:stress: cannot run tap: ${err.message}\n`);
    process.exitCode = 1;
    hogs.stop();
  });
  tap.on('exit', (code, signal) => {
    hogs.stop();
    process.stderr.write(
      `test:stress: tap ended (${signal ?? `exit code ${code}`}); load average ${load()}\n`,
    );
    process.exitCode = code ?? 1;
  });
}

main();
