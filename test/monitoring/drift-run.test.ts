import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline } from '../../lib/index.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

/** data/weather.csv's rows of one city and year, in a temp CSV. */
async function cityYear(dir: string, city: string, year: string): Promise<string> {
  const [header, ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  const path = join(dir, `${city.replace(' ', '-')}-${year}.csv`);
  await writeFile(path, [header, ...rows.filter((r) => r.startsWith(`${city},${year}-`))].join('\n') + '\n');
  return path;
}

t.test('scoring New York 2015 with the Seattle-trained model flags dataset drift', async (t) => {
  const dir = await tempDir(t);
  const output = join(dir, 'ny.csv');
  const summary = await createPipeline({ input: await cityYear(dir, 'New York', '2015'), output });
  t.equal(summary.rows.scored, 365);
  t.ok(summary.drift?.dataset_drift, `dataset drift (ratio ${summary.drift?.drifted_features_ratio})`);
  t.ok(summary.drift?.low_sample, '365 rows: marked low_sample');
  t.ok(
    summary.alerts.some((a) => a.alert === 'BatchInferenceDataDrift' && a.severity === 'warning'),
    'a low-sample drift only warns',
  );
  t.equal(summary.quality?.features.length, 6);
  const written = JSON.parse(await readFile(join(dir, 'ny.summary.json'), 'utf8')) as typeof summary;
  t.same(written.drift, summary.drift, 'the summary file carries the drift report');
  t.same(written.quality, summary.quality);
  const feature = summary.drift?.features[0];
  t.same(feature && Object.keys(feature).slice(0, 6), [
    'feature',
    'method',
    'score',
    'threshold',
    'level',
    'drifted',
  ]);
});

t.test('scoring Seattle 2015 does not', async (t) => {
  const dir = await tempDir(t);
  const summary = await createPipeline({
    input: await cityYear(dir, 'Seattle', '2015'),
    output: join(dir, 'sea.csv'),
  });
  t.equal(summary.drift?.dataset_drift, false, `ratio ${summary.drift?.drifted_features_ratio}`);
  t.notOk(summary.alerts.some((a) => a.alert === 'BatchInferenceDataDrift'));
});

t.test('rows rejected for a missing value count as missing in the quality table', async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'gaps.csv');
  await writeFile(
    input,
    'location,date,precipitation,temp_max,temp_min,wind,weather\n' +
      'Seattle,2015-01-01,0.0,5.6,-3.2,1.2,sun\n' +
      'Seattle,2015-01-02,,7.2,-1.1,2.1,sun\n' +
      'Seattle,2015-01-03,1.5,8.3,2.2,,rain\n' +
      'Seattle,2015-01-04,0.3,9.4,3.3,2.0,rain\n',
  );
  const summary = await createPipeline({ input, output: join(dir, 'out.csv') });
  t.same(summary.rows, { read: 4, scored: 2, rejected: 2 });
  const byName = Object.fromEntries((summary.quality?.features ?? []).map((f) => [f.feature, f]));
  t.equal(byName.precipitation?.missing_ratio, 0.25);
  t.equal(byName.wind?.missing_ratio, 0.25);
  t.equal(byName.temp_max?.missing_ratio, 0);
  t.ok(summary.alerts.some((a) => a.alert === 'BatchInferenceRowFailureRatioHigh'));
  t.ok(summary.alerts.some((a) => a.alert === 'BatchInferenceFeatureMissingValues' && a.feature === 'wind'));
});
