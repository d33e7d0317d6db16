import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createHttpScorer,
  createPipeline,
  readModelVersion,
  BUNDLED_MODELS_DIR,
  v2JsonCodec,
} from '../../lib/index.js';
import type { Tensor } from '../../lib/core/tensor.js';
import { startMockModelServer, type MockFault } from '../../testing/index.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const codec = () => v2JsonCodec(contract, undefined, ['probabilities']);
/** One row of weather's input (6 zero features). */
const oneRow = (): Tensor[] => [
  { name: 'features', datatype: 'FP32', shape: [1, 6], data: new Float32Array(6) },
];

/** A mock whose inference requests misbehave as scripted, then answer normally. */
async function mockWith(
  t: Test,
  faults: (MockFault | undefined)[],
  refuseRow?: (f: readonly number[]) => string | undefined,
) {
  const mock = await startMockModelServer({ fault: (i) => faults[i], ...(refuseRow ? { refuseRow } : {}) });
  t.teardown(() => mock.close());
  return mock;
}

t.test(
  '500, 429 with Retry-After, a reset connection and a stall are retried; output is unchanged',
  async (t) => {
    const dir = await tempDir(t);
    const clean = await mockWith(t, []);
    await createPipeline({
      input: WEATHER_CSV,
      output: join(dir, 'clean.csv'),
      url: clean.url,
      batchSize: 500,
      concurrency: 1,
    });
    const faults: MockFault[] = [500, { status: 429, retryAfter: '1' }, 'reset', 'stall', 503];
    const mock = await mockWith(t, faults);
    const started = Date.now();
    const summary = await createPipeline({
      input: WEATHER_CSV,
      output: join(dir, 'faulty.csv'),
      url: mock.url,
      batchSize: 500,
      concurrency: 1,
      // Long enough that no healthy request times out on a loaded machine; the stall still does.
      timeout: 2000,
      retries: 5,
    });
    t.same(summary.rows, { read: 2922, scored: 2922, rejected: 0 });
    t.equal(mock.requests, 6 + faults.length, 'one extra request per fault');
    t.ok(Date.now() - started >= 1000 + 2000, 'waited for Retry-After and the stall timeout');
    t.ok(
      (await readFile(join(dir, 'faulty.csv'))).equals(await readFile(join(dir, 'clean.csv'))),
      'byte-identical output',
    );
  },
);

t.test('the scorer gives up after `retries` and says how often it tried', async (t) => {
  const mock = await mockWith(t, [502, 502, 502]);
  const events: number[] = [];
  const scorer = createHttpScorer({
    url: mock.url,
    codec: codec(),
    retries: 2,
    retryBaseDelayMs: 1,
    onRetry: (e) => events.push(e.attempt),
  });
  t.teardown(() => scorer.close());
  await t.rejects(scorer.score(oneRow()), {
    code: 'BI_ERR_HTTP_STATUS',
    context: { status: 502 },
    message: /answered 502: mock fault 502 \(after 3 attempts\)/,
  });
  t.same(events, [1, 2]);
  t.same(
    (await scorer.score(oneRow())).map((o) => [o.name, o.shape, o.data.length]),
    [['probabilities', [1, 5], 5]],
    'the next request succeeds',
  );
});

t.test('a 404 or 400 is not retried', async (t) => {
  const mock = await mockWith(t, [404, 400]);
  const scorer = createHttpScorer({
    url: mock.url,
    codec: codec(),
    retryBaseDelayMs: 1,
  });
  t.teardown(() => scorer.close());
  await t.rejects(scorer.score(oneRow()), {
    code: 'BI_ERR_HTTP_STATUS',
    context: { status: 404 },
  });
  await t.rejects(scorer.score(oneRow()), {
    code: 'BI_ERR_HTTP_STATUS',
    context: { status: 400 },
  });
  t.equal(mock.requests, 2);
});

t.test('a refused connection is retried, then reported', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  let retries = 0;
  const scorer = createHttpScorer({
    url: `http://127.0.0.1:${port}`,
    codec: codec(),
    retries: 2,
    retryBaseDelayMs: 1,
    onRetry: () => retries++,
  });
  t.teardown(() => scorer.close());
  await t.rejects(scorer.score(oneRow()), {
    code: 'BI_ERR_HTTP_STATUS',
    message: /ECONNREFUSED.*after 3 attempts/,
  });
  t.equal(retries, 2);
});

t.test('aborting the signal stops a retry wait at once', async (t) => {
  const mock = await mockWith(t, [{ status: 503, retryAfter: '30' }]);
  const scorer = createHttpScorer({ url: mock.url, codec: codec() });
  t.teardown(() => scorer.close());
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = Date.now();
  await t.rejects(scorer.score(oneRow(), controller.signal), { name: 'AbortError' });
  t.ok(Date.now() - started < 5000);
});

t.test('rows the server refuses go to rejects with its reason; the rest are scored', async (t) => {
  const dir = await tempDir(t);
  // The mock refuses rows whose standardized wind (feature 3) is extreme: wind 99 in the input.
  const mock = await mockWith(t, [], (f) => ((f[3] ?? 0) > 20 ? 'wind out of the model domain' : undefined));
  const lines = (await readFile(WEATHER_CSV, 'utf8')).split('\n').slice(0, 41);
  for (const i of [5, 17, 18, 40]) lines[i] = (lines[i] as string).replace(/,[\d.]+,(\w+)$/, ',99,$1');
  const input = join(dir, 'in.csv');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(input, lines.join('\n') + '\n');
  const summary = await createPipeline({ input, output: join(dir, 'out.csv'), url: mock.url, batchSize: 16 });
  t.same(summary.rows, { read: 40, scored: 36, rejected: 4 });
  const rejects = (await readFile(join(dir, 'out.rejects.csv'), 'utf8')).trim().split('\n');
  t.same(
    rejects.slice(1).map((r) => r.split(',').slice(-2).join(',')),
    [
      '6,Model server answered 400: wind out of the model domain',
      '18,Model server answered 400: wind out of the model domain',
      '19,Model server answered 400: wind out of the model domain',
      '41,Model server answered 400: wind out of the model domain',
    ],
  );
});

t.test('a server that refuses every row alone fails the run instead of rejecting everything', async (t) => {
  const dir = await tempDir(t);
  const mock = await mockWith(t, [], () => 'unknown input "features"');
  await t.rejects(
    createPipeline({
      input: WEATHER_CSV,
      output: join(dir, 'out.csv'),
      url: mock.url,
      batchSize: 4,
      concurrency: 1,
    }),
    {
      code: 'BI_ERR_HTTP_STATUS',
      message:
        /refused each of the 4 rows of batch 0 on its own: Model server answered 400: unknown input "features"/,
    },
  );
});
