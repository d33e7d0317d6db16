import t from 'tap';
import { spawnSync, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../../lib/index.js';
import { spawnCli } from '../cli/spawn-cli.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

// Issue #10, point 2: an output that cannot be written (no space left, no permission) fails the run with a
// clear message, the stable code BI_ERR_OUTPUT_WRITE and exit 1 (DESIGN.md: any other failure), and leaves no
// partial output file and no temporary file behind.

interface Result {
  code: number | null;
  stderr: string;
}

function run(args: string[], options: SpawnOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(['run', ...args], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...options,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The run's error code, from the history record every run appends, failed ones too. */
async function errorCode(history: string): Promise<string | null | undefined> {
  const record = JSON.parse(await readFile(history, 'utf8')) as RunRecord;
  return record.error?.code;
}

/** Files the run must leave no trace in: their names, hidden temporary files included. */
const names = (dir: string): Promise<string[]> => readdir(dir).then((n) => n.sort());

t.test('disk full: /dev/full as the output (written in place: a device is not replaced)', async (t) => {
  const dir = await tempDir(t);
  const devBefore = await names('/dev');
  const history = join(dir, 'history.jsonl');
  const res = await run([
    ...['-i', WEATHER_CSV, '-o', '/dev/full', '--rejects', join(dir, 'rejects.csv')],
    ...['--summary', join(dir, 'summary.json'), '--metrics-file', join(dir, 'm.prom'), '--history', history],
  ]);
  t.equal(res.code, 1);
  t.match(res.stderr, /batch-infer run: Cannot write "\/dev\/full": no space left on the device \(ENOSPC\)/);
  t.equal(await errorCode(history), 'BI_ERR_OUTPUT_WRITE');
  t.same(await names('/dev'), devBefore, 'nothing created in /dev');
  t.same(await names(dir), ['history.jsonl', 'm.prom'], 'no rejects, no summary, no temporary file');
});

/** Why a small tmpfs cannot be mounted here (mounting needs root, CAP_SYS_ADMIN), or false when it can. */
function cannotMount(): string | false {
  const probe = mkdtempSync(join(tmpdir(), 'batch-infer-mount-'));
  try {
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { encoding: 'utf8' });
    if (mount.status !== 0)
      return `cannot mount a small tmpfs: ${(mount.stderr || String(mount.error)).trim()}`;
    spawnSync('umount', [probe]);
    return false;
  } finally {
    rmdirSync(probe);
  }
}

// /dev/full above covers the error; this covers the cleanup of a temporary file the full disk cut short.
t.test(
  'disk full: a 256 KiB file system fills up in the middle of the output',
  { skip: cannotMount() },
  async (t) => {
    const dir = await tempDir(t);
    const small = join(dir, 'small');
    await mkdir(small);
    t.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]).status, 0, 'mounted');
    t.teardown(() => void spawnSync('umount', [small]));
    const history = join(dir, 'history.jsonl');
    const res = await run([
      ...['-i', WEATHER_CSV, '-o', join(small, 'out.csv'), '--metrics-file', join(dir, 'm.prom')],
      ...['--history', history],
    ]);
    t.equal(res.code, 1);
    t.match(
      res.stderr,
      /Cannot write ".*\/small\/out(\.rejects)?\.csv": no space left on the device \(ENOSPC\)/,
    );
    t.equal(await errorCode(history), 'BI_ERR_OUTPUT_WRITE');
    t.same(await names(small), [], 'no output, rejects or temporary file left on the full file system');
  },
);

// Root ignores file modes (CI runs tests as root): the CLI then runs as `nobody`, for whom they hold.
const asRoot = process.getuid?.() === 0;
const unprivileged = asRoot ? { uid: 65534, gid: 65534 } : {};
const cannotDropRoot =
  asRoot && spawnSync(process.execPath, ['-e', ''], unprivileged).status !== 0
    ? 'running as root without the right to switch to an unprivileged user'
    : false;

t.test('permission denied: a read-only output directory', { skip: cannotDropRoot }, async (t) => {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  const input = join(dir, 'in.csv');
  await copyFile(WEATHER_CSV, input);
  const logs = join(dir, 'logs');
  await mkdir(logs);
  await chmod(logs, 0o777);
  const readOnly = join(dir, 'read-only');
  await mkdir(readOnly);
  await chmod(readOnly, 0o555);
  const history = join(logs, 'history.jsonl');
  const res = await run(
    [
      '-i',
      input,
      '-o',
      join(readOnly, 'out.csv'),
      '--metrics-file',
      join(logs, 'm.prom'),
      '--history',
      history,
    ],
    { ...unprivileged, cwd: dir },
  );
  t.equal(res.code, 1);
  t.match(res.stderr, /Cannot write ".*\/read-only\/out(\.rejects)?\.csv": permission denied \(EACCES\)/);
  t.equal(await errorCode(history), 'BI_ERR_OUTPUT_WRITE');
  t.same(await names(readOnly), [], 'nothing written');
});
