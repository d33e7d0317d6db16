/**
 * A PostgreSQL server for the benchmarks, started exactly as the tests start theirs (test/support/postgres.ts:
 * `initdb` in a temporary directory, `pg_ctl` on a free port of 127.0.0.1, SCRAM passwords, as the `postgres`
 * user when run as root, fsync off), but without tap: that module registers its teardown (stop the server,
 * remove its directory) on a tap `Test`, which here is a small stand-in whose teardowns `stop()` runs.
 */
import type { Test } from 'tap';
import { POSTGRES_MISSING, startPostgres, type TestPostgres } from '../test/support/postgres.js';

export { POSTGRES_MISSING };

export interface BenchPostgres {
  server: TestPostgres;
  /** Stops the server (`pg_ctl stop -m immediate`) and removes its directory; idempotent. */
  stop(): Promise<void>;
}

/** Starts a server; the caller must `stop()` it (in a `finally`). */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const teardowns: (() => unknown)[] = [];
  // startPostgres uses nothing of its Test but teardown().
  const t: Pick<Test, 'teardown'> = {
    teardown: (fn: () => unknown) => {
      teardowns.push(fn);
    },
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const fn of teardowns.reverse()) await fn();
    })());
  try {
    return { server: await startPostgres(t as Test), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
