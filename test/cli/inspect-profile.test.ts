/**
 * `batch-infer inspect` and `batch-infer profile` end to end, on a model exported by skl2onnx with no
 * model.json: what the contract and the column mapping look like, a model.json skeleton, and a reference profile
 * that turns a later run's drift check on.
 */
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { tempDir } from '../helpers.js';
import { runCli } from './spawn-cli.js';

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'models');

t.test('inspect shows the contract from the graph, the columns read and the columns written', async (t) => {
  const result = await runCli(['inspect', join(FIXTURES, 'titanic')]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^titanic {2}version 1 {2}\(contract from the ONNX graph\)/);
  t.match(result.stdout, /sex +BYTES +\[-1, 1\] +sex/);
  t.match(result.stdout, /output_probability +FP32 +\[-1, 2\] +probability_0, probability_1/);
  t.match(result.stdout, /appends prediction, probability_0, probability_1\./);

  const file = await runCli([
    'inspect',
    join(FIXTURES, 'iris_rf', '1', 'model.onnx'),
    '--features',
    'sepal_length,sepal_width,petal_length,petal_width',
  ]);
  t.equal(file.code, 0, file.stderr);
  t.match(file.stdout, /input +FP32 +\[-1, 4\] +sepal_length, sepal_width, petal_length, petal_width/);

  const fixed = await runCli(['inspect', join(FIXTURES, 'torch_fixed')]);
  t.match(fixed.stdout, /It scores 1 row\(s\) per batch/);

  const wrong = await runCli(['inspect', join(FIXTURES, 'iris_rf'), '--features', 'a,b']);
  t.equal(wrong.code, 0, 'a model that cannot be fed so is still inspected');
  t.match(wrong.stdout, /! the `features` option names 2 column\(s\)/);

  const missing = await runCli(['inspect', 'nope', '--models', FIXTURES]);
  t.not(missing.code, 0);
  t.match(missing.stderr, /Model "nope" is not in repository/);
});

t.test('inspect --json prints a model.json skeleton that loads', async (t) => {
  const dir = await tempDir(t);
  await cp(join(FIXTURES, 'iris_rf'), join(dir, 'iris_rf'), { recursive: true });
  const result = await runCli([
    'inspect',
    join(dir, 'iris_rf'),
    '--json',
    '--features',
    'sepal_length,sepal_width,petal_length,petal_width',
  ]);
  t.equal(result.code, 0, result.stderr);
  const skeleton = JSON.parse(result.stdout) as Record<string, unknown>;
  t.equal(skeleton.format, 1);
  t.same(skeleton.labels, ['setosa', 'versicolor', 'virginica']);
  t.same(
    (skeleton.features as { column: string }[]).map((f) => f.column),
    ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  );
  // Written as the model's model.json, it is checked against the graph and a run needs no --features.
  await cp(join(FIXTURES, 'data', 'iris_rf.csv'), join(dir, 'iris.csv'));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'iris_rf', '1', 'model.json'), result.stdout);
  const run = await runCli([
    'run',
    '--models',
    dir,
    '--model',
    'iris_rf',
    '--input',
    join(dir, 'iris.csv'),
    '--output',
    join(dir, 'out.csv'),
  ]);
  t.equal(run.code, 0, run.stderr);
  t.match(
    await readFile(join(dir, 'out.csv'), 'utf8'),
    /^sepal_length,sepal_width,petal_length,petal_width,prediction,probability_setosa/,
  );
});

t.test(
  'profile writes a reference profile into model.json; the next run checks drift against it',
  async (t) => {
    const dir = await tempDir(t);
    await cp(join(FIXTURES, 'titanic'), join(dir, 'titanic'), { recursive: true });
    const data = join(FIXTURES, 'data', 'titanic.csv');
    const result = await runCli(['profile', '--models', dir, '--model', 'titanic', '--input', data]);
    t.equal(result.code, 0, result.stderr);
    t.match(result.stdout, /Profiled 30 rows \(0 left out\) over 4 features: pclass, age, sibsp, fare/);
    const json = JSON.parse(await readFile(join(dir, 'titanic', '1', 'model.json'), 'utf8')) as {
      reference: {
        rows: number;
        features: { name: string; missing_ratio: number }[];
        predictions: Record<string, number>;
      };
    };
    t.equal(json.reference.rows, 30);
    const ages = (await readFile(data, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[2]);
    t.equal(
      json.reference.features.find((f) => f.name === 'age')?.missing_ratio,
      ages.filter((a) => a === '').length / ages.length,
      'the share of empty ages',
    );
    t.same(Object.keys(json.reference.predictions), ['0', '1']);

    const summary = join(dir, 'summary.json');
    const run = await runCli([
      'run',
      '--models',
      dir,
      '--model',
      'titanic',
      '--input',
      data,
      '--output',
      join(dir, 'out.csv'),
      '--summary',
      summary,
    ]);
    t.equal(run.code, 0, run.stderr);
    const drift = (
      JSON.parse(await readFile(summary, 'utf8')) as {
        drift: { dataset_drift: boolean; features: unknown[] };
      }
    ).drift;
    t.equal(drift.features.length, 4);
    t.equal(drift.dataset_drift, false, 'the training data does not drift from itself');

    const usage = await runCli(['profile', '--model', 'titanic', '--input', data]);
    t.equal(usage.code, 2, 'profile needs --models (it writes there)');
  },
);

t.test('evaluate works for any classifier given its label column', async (t) => {
  const dir = await tempDir(t);
  // Labelled data: iris rows all labelled setosa, so the model is right exactly on the setosa rows (petals < 2.5).
  const rows = (await readFile(join(FIXTURES, 'data', 'iris_rf.csv'), 'utf8')).trim().split('\n');
  const labelled = [`${rows[0] ?? ''},species`, ...rows.slice(1).map((r) => `${r},setosa`)];
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'labelled.csv'), `${labelled.join('\n')}\n`);
  const setosa = rows.slice(1).filter((r) => Number(r.split(',')[2]) < 2.5).length;
  const result = await runCli([
    'evaluate',
    '--models',
    FIXTURES,
    '--model',
    'iris_rf',
    '--input',
    join(dir, 'labelled.csv'),
    '--target',
    'species',
    '--features',
    'sepal_length,sepal_width,petal_length,petal_width',
    '--json',
  ]);
  t.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { rows: number; accuracy: number };
  t.equal(report.rows, rows.length - 1);
  t.equal(report.accuracy, setosa / (rows.length - 1), 'right exactly on the setosa rows');

  const regressor = await runCli([
    'evaluate',
    '--models',
    FIXTURES,
    '--model',
    'regressor',
    '--input',
    join(dir, 'labelled.csv'),
    '--target',
    'species',
  ]);
  t.equal(regressor.code, 2);
  t.match(regressor.stderr, /not a classifier/);
});
