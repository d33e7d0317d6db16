/**
 * The container test (`npm run test:container`): builds the image with buildah, serves from it, runs a batch
 * job from it on a mounted input against that server, and compares the job's output with the same job run
 * outside the container. Then it runs the image as `docker run --read-only` would, with podman: a read-only
 * root filesystem and no tmpfs, server and batch job alike. Needs buildah, podman with runc, and the
 * `node:22-bookworm-slim` base image, which `../shared/tools/node-base-image` builds here
 * (shared/CONTAINERS.md); `.ci/run` installs them.
 */
import t, { type Test } from 'tap';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { tempDir } from '../helpers.js';
import { freePort } from '../support/free-port.js';

const exec = promisify(execFile);
const IMAGE = 'localhost/batch-infer:test';
const BUILDAH = ['--isolation', 'chroot'];
const suffix = `${process.pid}`;
/** podman runs here only with runc and these limits (shared/CONTAINERS.md); no systemd for health checks. */
const PODMAN_RUN = [
  'run',
  '--rm',
  '--runtime',
  'runc',
  '--ulimit',
  'nofile=20000:20000',
  '--ulimit',
  'nproc=32768:32768',
  '--network',
  'host',
  '--no-healthcheck',
];
/** `docker run --read-only`, without the writable /tmp, /var/tmp and /run that podman would add by default. */
const READ_ONLY = ['--read-only', '--read-only-tmpfs=false'];

async function buildah(...args: string[]): Promise<string> {
  const { stdout } = await exec('buildah', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

async function waitFor(url: string, ms: number, log: () => string = () => ''): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${ms} ms; the server said: ${log().slice(-2000)}`);
}

/** A working container from the image; removed when the test ends. */
async function container(t: Test, name: string): Promise<string> {
  const full = `${name}-${suffix}`;
  await buildah('rm', full).catch(() => undefined);
  await buildah('from', '--name', full, IMAGE);
  t.teardown(() => buildah('rm', full).catch(() => undefined));
  return full;
}

t.test('image builds, serves, scores a mounted file, and matches a run outside the container', async (t) => {
  const base = join(PACKAGE_ROOT, '..', 'shared', 'tools', 'node-base-image');
  await exec(base, [], { maxBuffer: 16 * 1024 * 1024 });
  await exec(
    'buildah',
    ['bud', ...BUILDAH, '--format', 'docker', '--layers', '--force-rm', '-t', IMAGE, '.'],
    {
      cwd: PACKAGE_ROOT,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const size = await buildah('images', '--format', '{{.Size}}', IMAGE);
  t.comment(`image ${IMAGE}: ${size}`);

  const config = JSON.parse(await buildah('inspect', '--type', 'image', IMAGE)) as {
    Docker: {
      config: {
        User?: string;
        Entrypoint?: string[];
        Cmd?: string[];
        Healthcheck?: { Test?: string[] };
        Labels?: Record<string, string>;
      };
    };
  };
  const c = config.Docker.config;
  t.equal(c.User, 'node', 'runs as the non-root user');
  t.same(c.Entrypoint, ['batch-infer']);
  t.same(c.Cmd, ['serve']);
  t.ok(c.Healthcheck?.Test?.join(' ').includes('/v2/health/ready'), 'HEALTHCHECK probes readiness');
  t.equal(c.Labels?.['org.opencontainers.image.licenses'], 'MIT');

  const server = await container(t, 'bi-server');
  const port = 18000 + (process.pid % 1000);
  const url = `http://127.0.0.1:${port}`;
  const serving: ChildProcess = spawn('buildah', [
    'run',
    ...BUILDAH,
    '--env',
    `PORT=${port}`,
    server,
    '--',
    'batch-infer',
    'serve',
    '--host',
    '127.0.0.1',
    // The container shares the host's network: its gRPC port must be one nothing else on the machine holds.
    '--grpc-port',
    String(await freePort()),
  ]);
  let serverLog = '';
  serving.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  serving.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
  t.teardown(() => {
    serving.kill('SIGKILL');
  });
  await waitFor(`${url}/v2/health/ready`, 30_000, () => serverLog);
  const meta = (await (await fetch(`${url}/v2/models/weather`)).json()) as {
    name: string;
    versions: string[];
  };
  t.same([meta.name, meta.versions], ['weather', ['1']], 'model metadata from the container');
  const infer = await fetch(`${url}/v2/models/weather/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
    }),
  });
  t.equal(infer.status, 200, 'inference over HTTP');
  t.equal((await fetch(`${url}/ping`)).status, 200, 'SageMaker /ping');

  // The batch job: same image, input and output on a mounted directory the container user can write.
  const dir = await tempDir(t);
  await chmod(dir, 0o777);
  await copyFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), join(dir, 'in.csv'));
  const job = await container(t, 'bi-job');
  /** `batch-infer run …` in the job container, with the scratch directory mounted at /data. */
  const runJob = (...args: string[]) =>
    exec('buildah', ['run', ...BUILDAH, '-v', `${dir}:/data`, job, '--', 'batch-infer', 'run', ...args]);
  await runJob('--input', '/data/in.csv', '--output', '/data/out.csv', '--url', url);
  const uid = await buildah('run', ...BUILDAH, job, '--', 'id', '-u');
  t.equal(uid, '1000', 'processes in the container run as uid 1000');

  await exec(process.execPath, [
    join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js'),
    'run',
    '--input',
    join(dir, 'in.csv'),
    '--output',
    join(dir, 'host.csv'),
    '--url',
    url,
  ]);
  const inContainer = await readFile(join(dir, 'out.csv'));
  t.ok(
    inContainer.equals(await readFile(join(dir, 'host.csv'))),
    'container output is byte-identical to the host run',
  );
  t.equal(inContainer.toString().trimEnd().split('\n').length, 2923);

  // A bad-data exit code crosses the container boundary unchanged (orchestrators key retries on it).
  await exec('sh', [
    '-c',
    `printf 'date,wind\\n2012-01-01,3\\n' > ${dir}/bad.csv && chmod 666 ${dir}/bad.csv`,
  ]);
  const bad = await runJob('--input', '/data/bad.csv', '--output', '/data/bad-out.csv').then(
    () => 0,
    (err: unknown) => (err as { code?: number }).code,
  );
  t.equal(bad, 65, 'bad data exits 65 from the container');

  // SIGTERM to the server process inside the container drains and exits cleanly.
  const { stdout: pids } = await exec('pgrep', [
    '-f',
    `^node /usr/local/bin/batch-infer serve --host 127.0.0.1`,
  ]).catch(() => ({ stdout: '' }));
  const pid = pids
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .find((p) => p !== serving.pid);
  t.ok(pid, 'found the server process');
  const exited = new Promise<number | null>((resolve) => serving.on('exit', (code) => resolve(code)));
  if (pid !== undefined) process.kill(pid, 'SIGTERM');
  t.equal(await exited, 0, 'server exits 0 on SIGTERM');
  t.match(serverLog, /shutting down: draining in-flight requests/);
});

t.test('the image runs with a read-only root filesystem and no tmpfs', async (t) => {
  const name = `bi-readonly-${suffix}`;
  const denied = await exec('podman', [
    ...PODMAN_RUN,
    ...READ_ONLY,
    '--entrypoint',
    'sh',
    IMAGE,
    '-c',
    'touch /app/probe',
  ]).then(
    () => 'written',
    (err: unknown) => String((err as { stderr?: string }).stderr),
  );
  t.match(denied, /Read-only file system/, 'the root filesystem is read-only');

  const port = 19000 + (process.pid % 1000);
  const url = `http://127.0.0.1:${port}`;
  const serving = spawn('podman', [
    ...PODMAN_RUN,
    ...READ_ONLY,
    '--name',
    name,
    '--env',
    `PORT=${port}`,
    IMAGE,
    'serve',
    '--host',
    '127.0.0.1',
    // The container shares the host's network: its gRPC port must be one nothing else on the machine holds.
    '--grpc-port',
    String(await freePort()),
  ]);
  let serverLog = '';
  serving.stderr.on('data', (d: Buffer) => (serverLog += d.toString()));
  const exited = new Promise<number | null>((resolve) => serving.on('exit', (code) => resolve(code)));
  t.teardown(() => exec('podman', ['rm', '--force', name]).catch(() => undefined));
  await waitFor(`${url}/v2/health/ready`, 60_000, () => serverLog);
  const infer = await fetch(`${url}/v2/models/weather/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
    }),
  });
  t.equal(infer.status, 200, 'the server answers');

  // The batch job writes only to its mounted output directory.
  const dir = await tempDir(t);
  await chmod(dir, 0o777);
  await copyFile(join(PACKAGE_ROOT, 'data', 'weather.csv'), join(dir, 'in.csv'));
  await exec('podman', [
    ...PODMAN_RUN,
    ...READ_ONLY,
    '-v',
    `${dir}:/data`,
    IMAGE,
    'run',
    '--input',
    '/data/in.csv',
    '--output',
    '/data/out.csv',
    '--url',
    url,
  ]);
  t.equal(
    (await readFile(join(dir, 'out.csv'), 'utf8')).trimEnd().split('\n').length,
    2923,
    'the job scored',
  );

  await exec('podman', ['kill', '--signal', 'TERM', name]);
  t.equal(await exited, 0, 'the server drains and exits 0 on SIGTERM');
  t.match(serverLog, /shutting down: draining in-flight requests[\s\S]*stopped/);
});
