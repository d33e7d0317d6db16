/**
 * Long-running helper processes for the monitoring stack test: Prometheus, the Pushgateway and Alertmanager
 * started on free loopback ports, polled until ready, and always killed when the test ends (passed, failed or
 * timed out); plus a bounded poll for conditions that become true eventually, never a fixed sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';

/** How long anything in the stack may take to become true: generous, for a loaded 2-core CI machine. */
export const DEADLINE_MS = 90_000;

/**
 * A TCP port nothing listens on right now, for a daemon that takes its port on the command line. Picked at
 * random below the kernel's ephemeral range, so that the port-0 servers other test files open in parallel
 * can never be handed it in the moment between this check and the daemon's bind; `startDaemon` still checks
 * that the process answering on it is the one it started.
 */
export async function freePort(): Promise<number> {
  const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768'))
    .trim()
    .split(/\s+/)
    .map(Number);
  const top = Math.min(low ?? 32768, 32768) - 1;
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * (top - 20_000));
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
}

/**
 * Whether process `pid` holds the listening socket on 127.0.0.1:`port` (Linux: /proc/net/tcp gives the
 * socket's inode, /proc/<pid>/fd the process's sockets). True where /proc cannot tell.
 */
async function listensOn(pid: number, port: number): Promise<boolean> {
  const table = await readFile('/proc/net/tcp', 'utf8').catch(() => undefined);
  if (table === undefined) return true;
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const row = table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((cols) => cols[1] === local && cols[3] === '0A');
  if (row === undefined) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target === `socket:[${row[9]}]`) return true;
  }
  return false;
}

/**
 * Polls `probe` until it returns a value other than undefined, and returns it; fails after `DEADLINE_MS`
 * with `what` and the last thing the probe saw (`describe` of its last error or value).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  describe: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? `; last error: ${last.message}` : '';
      throw new Error(`Timed out after ${DEADLINE_MS / 1000} s waiting for ${what}${seen}. ${describe()}`);
    }
    await sleep(250);
  }
}

/** GET `url` as JSON; throws on a non-2xx answer. */
export async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface Daemon {
  child: ChildProcess;
  /** Its stderr so far (where these programs log), for failure messages. */
  log: () => string;
}

/**
 * Starts `command` and waits until `GET <ready>` answers 200; the process is killed (SIGTERM, then SIGKILL)
 * and awaited in the test's teardown, which tap runs on failure and on the test's own timeout too (keep that
 * below the file's, whose expiry kills the test process before any teardown).
 */
export async function startDaemon(t: Test, command: string, args: string[], ready: string): Promise<Daemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Last resort for an exit that skips teardown (an uncaught error): never leave a daemon behind.
  const orphan = (): void => void child.kill('SIGKILL');
  process.once('exit', orphan);
  t.teardown(async () => {
    process.off('exit', orphan);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  });
  const log = (): string => `${command} stderr:\n${stderr.slice(-3000)}`;
  await waitFor(
    `${command} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`);
      return (await fetch(ready)).ok ? true : undefined;
    },
    log,
  );
  // The answer must come from this process, not from another test's daemon that won the port.
  const port = Number(new URL(ready).port);
  if (child.pid !== undefined && !(await listensOn(child.pid, port))) {
    throw new Error(`${command}: another process answers on port ${port}. ${log()}`);
  }
  return { child, log };
}

export interface WebhookReceiver {
  url: string;
  /** Every notification received so far: the request path and its JSON body. */
  readonly received: { path: string; body: unknown }[];
}

/** A webhook endpoint on 127.0.0.1:0 that records what Alertmanager sends it; closed when the test ends. */
export async function webhookReceiver(t: Test): Promise<WebhookReceiver> {
  const received: { path: string; body: unknown }[] = [];
  const read = async (req: IncomingMessage): Promise<string> => {
    let text = '';
    for await (const chunk of req) text += (chunk as Buffer).toString('utf8');
    return text;
  };
  const server = createHttpServer((req, res) => {
    read(req).then(
      (text) => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // kept as text: the test's assertion then shows what arrived
        }
        received.push({ path: req.url ?? '', body });
        res.end();
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}
