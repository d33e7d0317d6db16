import t from 'tap';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import type { RunRecord } from '../../lib/monitoring/run-record.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const TSX = import.meta.resolve('tsx');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX, join(PACKAGE_ROOT, 'bin', 'batch-infer.ts'), ...args],
      {
        env: { ...process.env, NODE_OPTIONS: '', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

t.test('run --history appends a record per run, failed ones too, and warns of firing alerts', async (t) => {
  const dir = await tempDir(t);
  const [header, ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  const ny = join(dir, 'ny.csv');
  await writeFile(ny, [header, ...rows.filter((r) => r.startsWith('New York,2015-'))].join('\n') + '\n');
  const history = join(dir, 'state', 'runs.jsonl');
  const ok = await cli(['run', '-i', ny, '-o', join(dir, 'ny-out.csv'), '--history', history]);
  t.equal(ok.code, 0, ok.stderr);
  const warns = ok.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level === 40);
  t.ok(
    warns.some((w) => w.msg.startsWith('alert BatchInferenceDataDrift:')),
    'a warn line names the alert and its Prometheus twin',
  );
  const bad = join(dir, 'bad.csv');
  await writeFile(bad, 'location,date\nSeattle,2015-01-01\n');
  // The history path from the environment, as the CLI reads every flag.
  const failed = await cli(['run', '-i', bad, '-o', join(dir, 'bad-out.csv')], {
    BATCH_INFER_HISTORY: history,
  });
  t.equal(failed.code, 65);
  const records = (await readFile(history, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunRecord);
  t.equal(records.length, 2);
  const [first, second] = records;
  t.equal(first?.status, 'succeeded');
  t.same(first?.rows, { read: 365, ok: 365, invalid: 0, failed: 0 });
  t.same(first?.model, { name: 'weather', version: 1 });
  t.equal(first?.drift?.dataset_drift, true);
  t.ok(first?.alerts.some((a) => a.alert === 'BatchInferenceDataDrift'));
  t.ok((first?.timings.duration_ms ?? 0) > 0);
  t.ok((first?.throughput.rows_per_s ?? 0) > 0);
  t.equal(second?.status, 'failed');
  t.equal(second?.error?.code, 'BI_ERR_MISSING_COLUMN');
});
