import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { createPipeline } from '../../lib/index.js';
import { mockProbabilities, startMockModelServer } from '../../testing/index.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

t.test('the pipeline runs against the mock and gets its deterministic answers', async (t) => {
  const mock = await startMockModelServer();
  t.teardown(() => mock.close());
  const dir = await tempDir(t);
  const summary = await createPipeline({
    input: WEATHER_CSV,
    output: join(dir, 'o.csv'),
    url: mock.url,
    batchSize: 500,
  });
  t.equal(summary.rows.scored, 2922);
  t.equal(mock.requests, 6);
  const rows = parse(await readFile(join(dir, 'o.csv')));
  const probs = (rows[1] as string[]).slice(8).map(Number);
  t.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

t.test('mockProbabilities is a softmax', async (t) => {
  const p = mockProbabilities([0, Math.log(3)], 2);
  t.ok(Math.abs((p[0] ?? 0) - 0.25) < 1e-12 && Math.abs((p[1] ?? 0) - 0.75) < 1e-12);
});

t.test('injected faults reach the client as errors with the status, once retries are spent', async (t) => {
  const mock = await startMockModelServer({ fault: (i) => (i >= 1 ? 503 : undefined) });
  t.teardown(() => mock.close());
  const dir = await tempDir(t);
  await t.rejects(
    createPipeline({
      input: WEATHER_CSV,
      output: join(dir, 'o.csv'),
      url: mock.url,
      batchSize: 1000,
      concurrency: 1,
      retries: 1,
    }),
    {
      code: 'BI_ERR_HTTP_STATUS',
      message: /answered 503: mock fault 503 \(after 2 attempts\)/,
    },
  );
});
