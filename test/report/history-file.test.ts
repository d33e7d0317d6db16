import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../../lib/model-files.js';
import { runRecord } from '../../lib/monitoring/run-record.js';
import { RunStats } from '../../lib/monitoring/run-stats.js';
import { readRunHistory, runRecordProblem } from '../../lib/report/history-file.js';
import { tempDir } from '../helpers.js';
import { jsonl, record } from './records.js';

/** Reads `text` as a history file; resolves with the records or the error. */
async function read(t: Test, text: string | undefined): Promise<unknown> {
  const path = join(await tempDir(t), 'runs.jsonl');
  if (text !== undefined) await writeFile(path, text);
  return readRunHistory(path).catch((err: unknown) => err);
}

t.test('a record as the pipeline writes it passes the check', async (t) => {
  const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
  const stats = new RunStats();
  stats.profile(
    contract,
    contract.features.map((f) => f.name),
  );
  stats.drift?.addFeatures(Float64Array.from(contract.reference?.features ?? [], (f) => f.mean));
  stats.drift?.addPrediction(0);
  stats.requests.push({ outcome: 'success', seconds: 0.012 });
  const real = runRecord(stats, {
    pipeline: 'weather',
    model: { name: 'weather', version: 1 },
    inputs: ['in.csv'],
    counts: { read: 1, scored: 1, rejected: 0 },
  });
  t.ok(real.drift, 'profiled against the bundled model');
  t.equal(runRecordProblem(JSON.parse(JSON.stringify(real))), undefined);
  t.equal(runRecordProblem(record(0, { status: 'failed', error: { code: null, message: 'x' } })), undefined);
});

t.test('the check names the first field that is wrong', async (t) => {
  t.equal(runRecordProblem([]), 'the line is not an object');
  t.equal(runRecordProblem({ ...record(0), status: 'done' }), 'status is not one of succeeded, failed');
  t.equal(runRecordProblem({ ...record(0), timings: undefined }), 'timings is not an object');
  const bad = record(0);
  (bad.drift?.features[1] as unknown as { current: unknown[] }).current[2] = '0.3';
  t.equal(runRecordProblem(bad), 'drift.features[1].current[2] is not a number');
  t.equal(
    runRecordProblem({ ...record(0), requests: { ...record(0).requests, p95_ms: 'fast' } }),
    'requests.p95_ms is not a number',
  );
});

t.test('every record, in order; blank lines are allowed', async (t) => {
  const records = await read(t, `${jsonl([record(0)])}\n\n${jsonl([record(1, { pipeline: 'other' })])}`);
  t.same(
    (records as { pipeline: string }[]).map((r) => r.pipeline),
    ['nightly', 'other'],
  );
});

t.test('a missing, empty or corrupt history is refused with the file and line named', async (t) => {
  const missing = await read(t, undefined);
  t.ok(isBatchInferError(missing, ErrorCodes.INPUT_FORMAT));
  t.match((missing as Error).message, /^no run history at .*runs\.jsonl: give --history the file/);
  const empty = await read(t, '\n \n');
  t.match((empty as Error).message, /runs\.jsonl holds no runs/);
  const torn = await read(t, `${jsonl([record(0), record(1)])}{"status":"succ`);
  t.ok(isBatchInferError(torn, ErrorCodes.INPUT_FORMAT));
  t.match((torn as Error).message, /runs\.jsonl:3: not JSON \(/);
  t.match((torn as { context: unknown }).context, { line: 3 });
  const foreign = await read(t, `${jsonl([record(0)])}{"hello":"world"}\n`);
  t.match(
    (foreign as Error).message,
    /runs\.jsonl:2: not a run record: status is not one of succeeded, failed$/,
  );
});
