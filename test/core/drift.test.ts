import t from 'tap';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import {
  DriftAccumulator,
  jensenShannonDistance,
  JS_DRIFT,
  psi,
  PSI_DRIFT,
  PSI_WARN,
  psiLevel,
} from '../../lib/core/drift.js';
import { computeFeatures } from '../../lib/core/features.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../../lib/model-files.js';
import { WEATHER_CSV } from '../helpers.js';

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const rows = parse<Record<string, string>>(await readFile(WEATHER_CSV), { columns: true });

function driftOf(selected: Record<string, string>[]) {
  const acc = new DriftAccumulator(contract.reference!, contract.labels);
  for (const row of selected) {
    const result = computeFeatures(contract.features, row);
    if (result.ok) acc.addFeatures(result.raw);
    acc.addPrediction(contract.labels.indexOf(row.weather ?? ''));
  }
  return acc.report();
}

t.test('PSI and JS distance on known distributions', async (t) => {
  t.equal(psi([0.5, 0.5], [0.5, 0.5]), 0);
  // (0.9-0.5)ln(0.9/0.5) + (0.1-0.5)ln(0.1/0.5) = 0.4·0.5878 + 0.4·1.6094
  t.ok(Math.abs(psi([0.5, 0.5], [0.9, 0.1]) - 0.87889) < 1e-5);
  t.equal(jensenShannonDistance([1, 0], [1, 0]), 0);
  t.ok(
    Math.abs(jensenShannonDistance([1, 0], [0, 1]) - 1) < 1e-12,
    'disjoint distributions are at distance 1',
  );
  t.same([psiLevel(0.05), psiLevel(0.1), psiLevel(0.25)], ['ok', 'warn', 'drift']);
});

t.test('New York 2015 against the Seattle-trained model drifts', async (t) => {
  const report = driftOf(rows.filter((r) => r.location === 'New York' && r.date?.startsWith('2015')));
  t.equal(report.rows, 365);
  t.ok(report.dataset_drift, `dataset drift (ratio ${report.drifted_features_ratio})`);
  t.ok(report.low_sample, '365 rows is a low sample: marked so consumers only warn');
  const byName = Object.fromEntries(report.features.map((f) => [f.feature, f]));
  t.equal(byName.temp_min?.level, 'drift', `temp_min PSI ${byName.temp_min?.score}`);
  t.ok(
    report.features.every((f, i, all) => i === 0 || (all[i - 1]?.score ?? 0) >= f.score),
    'sorted by score',
  );
});

t.test('Seattle 2015 does not drift', async (t) => {
  const report = driftOf(rows.filter((r) => r.location === 'Seattle' && r.date?.startsWith('2015')));
  t.notOk(
    report.dataset_drift,
    `no dataset drift (${report.features.map((f) => `${f.feature}=${f.score}`).join(', ')})`,
  );
  t.ok(
    report.features.every((f) => f.score < PSI_DRIFT),
    'no feature drifts by PSI',
  );
  // One year (365 rows, low_sample) of the training city's own weather is noisy enough to put one feature
  // over the secondary JS line (temp_max, 0.12): that is the single feature flagged, far from dataset drift.
  t.ok(report.low_sample);
  t.same(
    report.features.filter((f) => f.drifted).map((f) => f.feature),
    ['temp_max'],
  );
});

t.test('a Jensen-Shannon distance ≥ 0.1 flags a feature PSI calls ok (research §8.3)', async (t) => {
  const report = driftOf(rows.filter((r) => r.location === 'Seattle' && r.date?.startsWith('2015')));
  const temp = report.features.find((f) => f.feature === 'temp_max');
  t.equal(psiLevel(temp?.score ?? 1), 'ok', `PSI ${temp?.score} < ${PSI_WARN}`);
  t.ok((temp?.js_distance ?? 0) >= JS_DRIFT, `JS ${temp?.js_distance} ≥ ${JS_DRIFT}`);
  t.equal(temp?.drifted, true);
  t.equal(temp?.level, 'drift', 'the level follows the flag');
  const calm = report.features.find((f) => f.feature === 'precipitation');
  t.ok((calm?.js_distance ?? 1) < JS_DRIFT && (calm?.score ?? 1) < PSI_WARN);
  t.same([calm?.drifted, calm?.level], [false, 'ok'], 'below both lines: not drifted');
});

t.test('missing and out-of-range values are counted', async (t) => {
  const acc = new DriftAccumulator(contract.reference!, contract.labels);
  const width = contract.features.length;
  acc.addFeatures(new Float64Array(width).fill(Number.NaN));
  acc.addFeatures(new Float64Array(width).fill(1e6));
  const report = acc.report();
  t.ok(report.features.every((f) => f.missing_ratio === 0.5 && f.out_of_range_ratio === 0.5));
});
