import t from 'tap';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { formatProgress } from '../../bin/cli/progress.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const TSX = import.meta.resolve('tsx');

function cli(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX, join(PACKAGE_ROOT, 'bin', 'batch-infer.ts'), ...args],
      {
        cwd,
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

t.test(
  'run: several --input files, --columns, --summary; progress as JSON log lines off a terminal',
  async (t) => {
    const dir = await tempDir(t);
    const lines = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
    await writeFile(join(dir, 'a.csv'), lines.slice(0, 1500).join('\n') + '\n');
    await writeFile(join(dir, 'b.csv'), [lines[0], ...lines.slice(1500)].join('\n') + '\n');
    const res = await cli(
      [
        'run',
        '-i',
        'a.csv',
        '-i',
        'b.csv',
        '-o',
        'out.csv',
        '--columns',
        'date',
        '--batch-size',
        '16',
        '--progress-interval',
        '5ms',
      ],
      dir,
    );
    t.equal(res.code, 0, res.stderr);
    const out: string[][] = parse(await readFile(join(dir, 'out.csv')));
    t.equal(out.length, 2923);
    t.same(out[0]?.slice(0, 2), ['date', 'prediction']);
    const summary = JSON.parse(await readFile(join(dir, 'out.summary.json'), 'utf8')) as {
      rows: unknown;
    };
    t.same(summary.rows, { read: 2922, scored: 2922, rejected: 0 });
    const progress = res.stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"progress"'))
      .map((l) => JSON.parse(l) as { progress: { rows: { read: number } } });
    t.ok(progress.length > 0, 'at least one progress line');
    t.ok(progress.every((p) => typeof p.progress.rows.read === 'number'));
    const bad = await cli(['run', '-i', 'a.csv', '-o', 'x.csv', '--input-format', 'xml'], dir);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /--input-format must be one of csv, jsonl, parquet, got "xml"/);
  },
);

t.test('the progress line a terminal shows', async (t) => {
  const base = { rows: { read: 1200, scored: 1190, rejected: 10 }, elapsed_ms: 2000, rows_per_s: 600 };
  t.equal(
    formatProgress({ ...base, bytes_read: 500, bytes_total: 1000, eta_ms: 83_000, done: false }),
    '1,190 scored · 10 rejected · 600 rows/s · 50 % read · ETA 1m 23s',
  );
  t.equal(
    formatProgress({
      ...base,
      bytes_read: undefined,
      bytes_total: undefined,
      eta_ms: undefined,
      done: false,
    }),
    '1,190 scored · 10 rejected · 600 rows/s · ETA ?',
  );
  t.equal(
    formatProgress({ ...base, bytes_read: 1000, bytes_total: 1000, eta_ms: 0, done: true }),
    '1,190 scored · 10 rejected · 600 rows/s · 100 % read · done in 2s',
  );
});
