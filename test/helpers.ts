/** Shared test helpers: a real model server on 127.0.0.1:0 and temporary directories. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { createModelServer, type ModelServerOptions } from '../server/index.js';
import { listen } from '../bin/cli/listen.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';

export const WEATHER_CSV = join(PACKAGE_ROOT, 'data', 'weather.csv');

/** Starts a real server on a free loopback port; it is closed when the test ends. */
export async function startServer(t: Test, options: ModelServerOptions = {}): Promise<string> {
  const modelServer = createModelServer(options);
  const listening = await listen(modelServer, 0, '127.0.0.1');
  await modelServer.loaded;
  t.teardown(() => listening.close());
  return listening.url;
}

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'batch-infer-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The error a promise rejects with; a promise that resolves fails the test's expectation. */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ code?: string; name: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; name: string; message: string };
  }
  throw new Error('expected a failure');
}
