/** Runs the real `batch-infer` executable from source (through tsx), as a user's shell would. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { PACKAGE_ROOT } from '../../lib/package-root.js';

/** tsx's loader by absolute URL, so the CLI can run from any working directory. */
const TSX = import.meta.resolve('tsx');
const CLI = join(PACKAGE_ROOT, 'bin', 'batch-infer.ts');

export function spawnCli(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: PACKAGE_ROOT, ...options });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion with `stdin` as its input; `onStderr` sees stderr as it arrives. */
export function runCli(
  args: string[],
  options: {
    stdin?: string;
    cwd?: string;
    /** Variables added to the test's environment. */
    env?: NodeJS.ProcessEnv;
    onStderr?: (soFar: string, child: ChildProcess) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, {
      cwd: options.cwd ?? PACKAGE_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(options.stdin ?? '');
  });
}

export interface ServingCli {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Starts `batch-infer serve` on a free loopback port; resolves once it is ready; killed when the test ends. */
export async function serveCli(t: Test, args: string[] = []): Promise<ServingCli> {
  const child = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', ...args]);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', () => {
      const match = /listening on (http:\/\/[\d.:]+)/.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
  });
  // Ready once its models are loaded: however long that takes on a loaded machine (a bound of 100 polls used to
  // hand back a server still loading; issue #20), unless it exits first.
  while ((await fetch(`${url}/v2/health/ready`)).status !== 200) {
    if (child.exitCode !== null) throw new Error(`serve exited before it was ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, exited, stderr: () => stderr };
}

/**
 * Runs the CLI with a progress line every 50 ms and kills it with SIGKILL as soon as one says rows were scored
 * (the output is being written); resolves with its stderr once it is gone. A run that ends first is not killed.
 */
export async function killWhileWriting(args: string[], options: { cwd?: string } = {}): Promise<string> {
  const child = spawnCli([...args, '--progress-interval', '50ms'], {
    cwd: options.cwd ?? PACKAGE_ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/"scored":[1-9]/.test(stderr) && child.exitCode === null) child.kill('SIGKILL');
  });
  await new Promise((resolve) => child.once('exit', resolve));
  return stderr;
}
