/**
 * Champion/challenger runs (`shadowVersion`): every batch scored by both versions, the output keeping the
 * champion's columns byte for byte and adding the challenger's, the summary counting disagreements per class —
 * in process and through a real server, with the same bytes.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import t from 'tap';
import { createPipeline } from '../../lib/pipeline.js';
import { BUNDLED_MODELS_DIR } from '../../lib/model-files.js';
import { startServer, tempDir, WEATHER_CSV } from '../helpers.js';
import { load } from './admin-client.js';

const TOKEN = 'shadow-token';
const LABELS = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const CHALLENGER_COLUMNS = ['challenger_prediction', ...LABELS.map((l) => `challenger_probability_${l}`)];

async function csv(path: string): Promise<string[][]> {
  return parse(await readFile(path, 'utf8'));
}

t.test(
  'in process: champion columns as a plain run, challenger columns as a v2 run, disagreement counted',
  async (t) => {
    const dir = await tempDir(t);
    const run = (output: string, extra: object) =>
      createPipeline({ input: WEATHER_CSV, output: join(dir, output), batchSize: 100, ...extra });
    const summary = await run('both.csv', { modelVersion: 1, shadowVersion: 2 });
    await run('v1.csv', {});
    await run('v2.csv', { modelVersion: 2 });
    const [both, v1, v2] = await Promise.all(['both.csv', 'v1.csv', 'v2.csv'].map((f) => csv(join(dir, f))));
    if (both === undefined || v1 === undefined || v2 === undefined) throw new Error('no output');

    const width = (v1[0] as string[]).length;
    t.same(
      both[0],
      [...(v1[0] as string[]), ...CHALLENGER_COLUMNS],
      'header: champion columns, then the challenger',
    );
    t.same(
      both.map((r) => r.slice(0, width)),
      v1,
      'the champion columns are those of a plain run',
    );
    t.same(
      both.slice(1).map((r) => r.slice(width)),
      v2.slice(1).map((r) => r.slice(width - CHALLENGER_COLUMNS.length)),
      "the challenger columns are a v2 run's prediction and probabilities",
    );

    t.match(summary.model, { name: 'weather', version: 1 });
    const shadow = summary.shadow;
    if (shadow === null) throw new Error('no shadow summary');
    const differing = both.slice(1).filter((r) => r[width - LABELS.length - 1] !== r[width]).length;
    t.equal(shadow.version, 2);
    t.equal(shadow.rows, 2922);
    t.equal(shadow.disagreements, differing);
    t.equal(shadow.rate, differing / 2922);
    t.equal(
      shadow.per_class.reduce((n, c) => n + c.disagreements, 0),
      differing,
      'per class disagreements add up',
    );
    const written = JSON.parse(await readFile(join(dir, 'both.summary.json'), 'utf8')) as typeof summary;
    t.same(written.shadow, shadow, 'the run summary file holds the disagreement');
  },
);

t.test('through the server: the same bytes as in process', async (t) => {
  const url = await startServer(t, { adminToken: TOKEN });
  t.equal(
    (await load(url, TOKEN, { version_policy: { specific: { versions: [1, 2] } }, default_version: 1 }))
      .status,
    200,
  );
  const dir = await tempDir(t);
  for (const protocol of ['v2-binary', 'v2-json'] as const) {
    const summary = await createPipeline({
      input: WEATHER_CSV,
      output: join(dir, `${protocol}.csv`),
      url,
      protocol,
      modelVersion: 1,
      shadowVersion: 2,
    });
    t.equal(summary.shadow?.version, 2);
  }
  await createPipeline({
    input: WEATHER_CSV,
    output: join(dir, 'local.csv'),
    modelVersion: 1,
    shadowVersion: 2,
  });
  const local = await readFile(join(dir, 'local.csv'), 'utf8');
  t.equal(await readFile(join(dir, 'v2-binary.csv'), 'utf8'), local, 'v2-binary');
  t.equal(await readFile(join(dir, 'v2-json.csv'), 'utf8'), local, 'v2-json');
});

t.test("a challenger must share the champion's contract; some options do not combine", async (t) => {
  const repo = await tempDir(t);
  await cp(join(BUNDLED_MODELS_DIR, 'weather'), join(repo, 'weather'), { recursive: true });
  const v3 = join(repo, 'weather', '3');
  await cp(join(repo, 'weather', '2'), v3, { recursive: true });
  const contract = JSON.parse(await readFile(join(v3, 'model.json'), 'utf8')) as {
    features: { standardize: { mean: number } }[];
  };
  (contract.features[0] as { standardize: { mean: number } }).standardize.mean += 1;
  await writeFile(join(v3, 'model.json'), JSON.stringify(contract));
  const output = join(repo, 'out.csv');
  await t.rejects(createPipeline({ input: WEATHER_CSV, output, models: repo, shadowVersion: 3 }), {
    code: 'BI_ERR_MODEL_CONTRACT',
    message:
      /Version 3 of model "weather" cannot be the challenger: it differs from the champion in its feature spec/,
  });
  await t.rejects(createPipeline({ input: WEATHER_CSV, output, shadowVersion: 2, resume: true }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /cannot be combined with `resume`/,
  });
  await t.rejects(
    createPipeline({
      input: WEATHER_CSV,
      output,
      shadowVersion: 2,
      url: 'http://127.0.0.1:9',
      protocol: 'sagemaker',
    }),
    { code: 'BI_ERR_INVALID_OPTION', message: /name the model version/ },
  );
  await t.rejects(createPipeline({ input: WEATHER_CSV, output, shadowVersion: 0 }), {
    code: 'BI_ERR_INVALID_OPTION',
  });
});
