/**
 * A real S3-compatible server for one test file (issue #17): Ceph's RADOS Gateway (radosgw, the S3 server of
 * Ceph) over a one-node Ceph cluster, one monitor and one OSD that keeps its objects in memory (`memstore`),
 * all in a temporary directory and on free ports of 127.0.0.1. It checks signatures (a wrong secret is refused
 * with SignatureDoesNotMatch, an unknown key with InvalidAccessKeyId) and implements multipart uploads and
 * ListMultipartUploads, so the sink's abort is checked against the real thing and not a fake.
 *
 * Cephx is off between the daemons (they are alone on loopback); S3 requests are signed as in production. The
 * daemons run in the foreground as children of the test; a watchdog shell stops them and removes the
 * directory if the test process dies without its teardown (a tap timeout, a SIGKILL).
 *
 * Needs Debian's `radosgw`, `ceph-mon` and `ceph-osd` (and `ceph-common`, which they bring). {@link S3_MISSING}
 * says why when they are absent; a test skips on a developer's machine and fails in CI (CI=true).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { freePort } from './free-port.js';

const exec = promisify(execFile);

const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];

/** Why the S3 server cannot be started here, or undefined when it can. */
export const S3_MISSING: string | undefined = BINARIES.every((bin) => existsSync(join('/usr/bin', bin)))
  ? undefined
  : 'Ceph not found in /usr/bin (apt-get install radosgw ceph-mon ceph-osd)';

/** The `skip` option for a test that needs S3: skipped without it, except in CI where it must run. */
export const SKIP_WITHOUT_S3: string | false =
  S3_MISSING !== undefined && process.env.CI !== 'true' ? S3_MISSING : false;

export interface TestS3 {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The variables that point the AWS SDK's default chain at this server (for `process.env` or a child). */
  env: Record<string, string>;
}

/**
 * Starts the server for test `t` and sets {@link TestS3.env} in `process.env` until `t` ends (the code under
 * test finds the endpoint and credentials as a user's run would); it is stopped and removed when `t` ends.
 */
export async function startS3(t: Test): Promise<TestS3> {
  if (S3_MISSING !== undefined) throw new Error(S3_MISSING);
  const dir = await mkdtemp(join(tmpdir(), 'batch-infer-s3-'));
  const daemons: ChildProcess[] = [];
  const watchdog = spawn(
    'sh',
    [
      '-c',
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 $(cat "$1"/*.pid); rm -rf "$1"`,
      'sh',
      dir,
    ],
    { stdio: 'ignore', detached: true },
  );
  watchdog.unref();
  t.teardown(async () => {
    await Promise.all(daemons.map(stop));
    watchdog.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'ceph.conf');
  const fsid = randomUUID();
  await writeFile(conf, config(dir, fsid, monPort, rgwPort));
  const ceph = (tool: string, args: string[]): Promise<string> =>
    exec(tool, ['-c', conf, ...args], { cwd: dir, timeout: 60_000 }).then((r) => r.stdout);
  const daemon = async (tool: string, args: string[]): Promise<void> => {
    const child = spawn(tool, ['-c', conf, '-f', ...args], { cwd: dir, stdio: 'ignore' });
    daemons.push(child);
    await writeFile(join(dir, `${String(child.pid)}.pid`), `${String(child.pid)}\n`);
  };

  await mkdir(join(dir, 'run'));
  await exec(
    'monmaptool',
    ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, 'monmap'],
    {
      cwd: dir,
    },
  );
  await ceph('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', 'monmap']);
  await daemon('ceph-mon', ['-i', 'a']);
  const osd = (await ceph('ceph', ['osd', 'create'])).trim();
  await mkdir(join(dir, `osd.${osd}`));
  await ceph('ceph-osd', ['-i', osd, '--mkfs']);
  await daemon('ceph-osd', ['-i', osd]);
  await daemon('radosgw', ['-n', 'client.rgw']);
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  await waitFor(endpoint, dir);

  const accessKeyId = `AK${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString('hex');
  await ceph('radosgw-admin', [
    'user',
    'create',
    '--uid',
    'batch-infer',
    '--display-name',
    'batch-infer tests',
    '--access-key',
    accessKeyId,
    '--secret',
    secretAccessKey,
  ]);

  const region = 'us-east-1';
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
  };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  t.teardown(() => {
    for (const [key, value] of Object.entries(saved))
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
  });
  return { endpoint, region, accessKeyId, secretAccessKey, env };
}

function config(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${monPort}]
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
# With cephx off, the daemons' default "secure" mode toward the monitor has no key to use.
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc
ms service mode = crc
ms cluster mode = crc
ms mon cluster mode = crc
mon data = ${dir}/$name
osd data = ${dir}/$name
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/$name.log
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

/** Waits until the gateway answers HTTP (it creates its pools first), up to a minute. */
async function waitFor(endpoint: string, dir: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const answered = await fetch(endpoint).then(
      async (response) => {
        await response.body?.cancel();
        return true;
      },
      () => false,
    );
    if (answered) return;
    await sleep(250);
  }
  const log = await readFile(join(dir, 'client.rgw.log'), 'utf8').catch(() => '');
  throw new Error(`radosgw did not answer at ${endpoint} within a minute\n${log.slice(-4000)}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
