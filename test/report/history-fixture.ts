/**
 * A real run history for the report's browser test and the docs screenshot: the built CLI (`dist/`) scores
 * the bundled weather data several ways, in process and over HTTP against a real model server, with a run
 * that rejects rows, one that fails, and New York rows last so the latest run drifts.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { WEATHER_CSV } from '../helpers.js';

const exec = promisify(execFile);
export const BUILT_CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js');

/** Runs the built CLI with `env` added; resolves with its exit code and output, whatever the code. */
export async function cli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BUILT_CLI, ...args], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Writes the inputs the runs read: the bundled data, Seattle 2015, New York 2015, rows with bad values, a file
 * lacking columns. They sit in the runs' working directory, so the records name them by their short names.
 */
async function writeInputs(dir: string): Promise<void> {
  const [header = '', ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  const pick = (prefix: string): string[] => rows.filter((r) => r.startsWith(prefix));
  const csv = (lines: string[]): string => [header, ...lines].join('\n') + '\n';
  await writeFile(join(dir, 'weather.csv'), csv(rows));
  await writeFile(join(dir, 'seattle-2015.csv'), csv(pick('Seattle,2015-')));
  await writeFile(join(dir, 'ny-2015.csv'), csv(pick('New York,2015-')));
  // Every 40th row loses its wind speed: rejected as invalid, 2.5 % of the rows.
  await writeFile(
    join(dir, 'gappy.csv'),
    csv(rows.map((r, i) => (i % 40 === 0 ? r.replace(/,[\d.]+,(\w+)$/, ',,$1') : r))),
  );
  await writeFile(join(dir, 'no-columns.csv'), 'location,date\nSeattle,2015-01-01\n');
}

/** A run of the history: its input file and how it scores. */
export interface HistoryRun {
  input: 'weather.csv' | 'seattle-2015.csv' | 'ny-2015.csv' | 'gappy.csv' | 'no-columns.csv';
  /** Over HTTP with this protocol, else in process. */
  protocol?: 'v2-binary' | 'v2-json';
}

export const TEST_RUNS: readonly HistoryRun[] = [
  { input: 'weather.csv' },
  { input: 'weather.csv', protocol: 'v2-binary' },
  { input: 'gappy.csv', protocol: 'v2-json' },
  { input: 'no-columns.csv' },
  { input: 'ny-2015.csv', protocol: 'v2-binary' },
];

/**
 * Scores `runs` in `dir` with the built CLI, each appending to `dir/runs.jsonl`; `url` is the model server
 * for the runs over HTTP. Returns the history's path.
 */
export async function makeHistory(dir: string, url: string, runs: readonly HistoryRun[]): Promise<string> {
  await writeInputs(dir);
  const history = join(dir, 'runs.jsonl');
  for (const [i, run] of runs.entries()) {
    const over = run.protocol === undefined ? [] : ['--url', url, '--protocol', run.protocol];
    const result = await cli(
      ['run', '-i', run.input, '-o', join(dir, `out-${i}.csv`), '--history', history, ...over],
      dir,
    );
    const expected = run.input === 'no-columns.csv' ? 65 : 0;
    if (result.code !== expected)
      throw new Error(`run ${i} (${run.input}) exited ${result.code}, not ${expected}: ${result.stderr}`);
  }
  return history;
}
