import t from 'tap';
import { evaluateRules, median, robustZ } from '../../lib/core/trends.js';
import type { RunRecord } from '../../lib/monitoring/run-record.js';

/** A clean successful run of 10000 rows at `rowsPerSecond`, with fields overridden. */
function run(rowsPerSecond: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    status: 'succeeded',
    pipeline: 'p',
    model: { name: 'weather', version: 1 },
    inputs: ['in.csv'],
    rows: { read: 10000, ok: 10000, invalid: 0, failed: 0 },
    timings: {
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:10.000Z',
      duration_ms: 10000,
      stages_ms: { read: 0, preprocess: 0, infer: 0, write: 0 },
    },
    throughput: { rows_per_s: rowsPerSecond },
    requests: {
      count: 0,
      p50_ms: null,
      p95_ms: null,
      p99_ms: null,
      retries: 0,
      by_outcome: { success: 0, error: 0, timeout: 0 },
    },
    drift: null,
    quality: null,
    alerts: [],
    ...over,
  };
}

const names = (r: RunRecord, h: RunRecord[] = []): string[] => evaluateRules(r, h).map((a) => a.alert);
const failed = (): RunRecord =>
  run(0, { status: 'failed', error: { code: 'BI_ERR_HTTP_STATUS', message: 'down' } });

t.test('median and robust z-score', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 2, 3]), 2.5);
  // median 10, MAD 1: (4 − 10) / 1.4826
  t.ok(
    Math.abs(robustZ(4, [9, 10, 11, 10, 100]) - -6 / 1.4826) < 1e-9,
    'an outlier in the baseline does not move it',
  );
  t.equal(robustZ(5, [10, 10, 10]), 0, 'MAD 0: no z-score');
});

t.test('a clean run against a steady history fires nothing', async (t) => {
  t.same(names(run(1000), [run(1000), run(1100), run(950)]), []);
});

t.test('throughput under half the median of previous successful runs fires ThroughputDrop', async (t) => {
  const history = [run(1000), run(1100), failed(), run(950), run(1050)];
  t.same(names(run(450), history), ['BatchInferenceThroughputDrop']);
  t.same(
    names(run(600), history),
    ['BatchInferenceThroughputDrop'],
    'robust z: 600 is far below a tight baseline',
  );
  t.same(names(run(900), history), [], 'a 10 % dip is under the 20 % floor');
  t.same(names(run(450), history.slice(0, 2)), [], 'no verdict on fewer than 3 baseline runs');
  t.same(
    names(run(450, { rows: { read: 500, ok: 500, invalid: 0, failed: 0 } }), history),
    [],
    'short runs are not judged',
  );
});

t.test('more than 1 % invalid or failed rows fires RowFailureRatioHigh', async (t) => {
  t.same(names(run(1000, { rows: { read: 1000, ok: 985, invalid: 10, failed: 5 } })), [
    'BatchInferenceRowFailureRatioHigh',
  ]);
  t.same(
    names(run(1000, { rows: { read: 1000, ok: 990, invalid: 10, failed: 0 } })),
    [],
    '1 % exactly is fine',
  );
});

t.test('three failed runs in a row fire NotSucceededRecently', async (t) => {
  t.same(names(failed(), [run(1000), failed(), failed()]), ['BatchInferenceNotSucceededRecently']);
  t.same(names(failed(), [failed(), run(1000), failed()]), []);
  t.same(names(failed(), [failed()]), [], 'not enough runs yet');
});

function drifted(rows: number, predictionScore: number): RunRecord['drift'] {
  const feature = (name: string, score: number) => ({
    feature: name,
    method: 'psi' as const,
    score,
    threshold: 0.25,
    level: score >= 0.25 ? ('drift' as const) : ('ok' as const),
    drifted: score >= 0.25,
    js_distance: 0,
    js_threshold: 0.1,
    missing_ratio: 0,
    out_of_range_ratio: 0,
    current: [],
    reference: [],
  });
  return {
    rows,
    low_sample: rows < 1000,
    dataset_drift: true,
    drifted_features_ratio: 0.5,
    features: [feature('a', 0.9), feature('b', 0.01)],
    prediction: {
      method: 'psi',
      score: predictionScore,
      threshold: 0.25,
      level: 'ok',
      current: {},
      reference: {},
    },
  };
}

t.test('dataset drift and prediction PSI ≥ 0.25 fire; a low sample only warns', async (t) => {
  const alerts = evaluateRules(run(1000, { drift: drifted(5000, 0.3) }), []);
  t.same(
    alerts.map((a) => [a.alert, a.severity]),
    [
      ['BatchInferenceDataDrift', 'ticket'],
      ['BatchInferencePredictionDrift', 'ticket'],
    ],
  );
  t.match(alerts[0]?.message, /a \(PSI 0\.9, JS \d/);
  const low = evaluateRules(run(1000, { drift: drifted(300, 0.1) }), []);
  t.same(
    low.map((a) => [a.alert, a.severity]),
    [['BatchInferenceDataDrift', 'warning']],
  );
});

t.test('missing > 5 % and out-of-range > 1 % fire per feature', async (t) => {
  const quality = {
    features: [
      { feature: 'a', missing_ratio: 0.06, out_of_range_ratio: 0 },
      { feature: 'b', missing_ratio: 0.05, out_of_range_ratio: 0.02 },
    ],
  };
  t.same(
    evaluateRules(run(1000, { quality }), []).map((a) => [a.alert, a.feature]),
    [
      ['BatchInferenceFeatureMissingValues', 'a'],
      ['BatchInferenceFeatureOutOfRange', 'b'],
    ],
  );
});
