#!/usr/bin/env node
/** The `batch-infer` executable: wires process signals and streams to the CLI and sets the exit code. */
import { main } from './cli/main.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    controller.abort(new Error(`received ${signal}`));
  });
}

// `batch-infer run -o - | head`: once head exits, writes to stdout fail with EPIPE. Stop quietly, as Unix
// tools do, instead of crashing with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') controller.abort(err);
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
