/**
 * Issue point 5: dynamic batching. Concurrent requests share model runs, each still gets its own answer, and
 * a request that breaks its batch fails alone.
 */
import t from 'tap';
import { startServer, tempDir } from '../helpers.js';
import { lookupModel, LOOKUP_CONTRACT, writeModel } from './model-fixtures.js';
import { infer, metric, modelRuns } from './v2-client.js';

const N = 32;

function row(i: number): number[] {
  return [Math.sin(i), Math.cos(i), i / N - 0.5, (i % 5) - 2, Math.sin(3 * i), -Math.cos(2 * i)];
}

t.test(`${N} concurrent single-row requests share runs and each gets its own answer`, async (t) => {
  const url = await startServer(t, { workers: 1, maxQueueDelayMs: 50 });
  const ask = (i: number) =>
    infer(url, 'weather', { name: 'features', datatype: 'FP32', shape: [1, 6], data: row(i) });

  const alone: number[][] = [];
  for (let i = 0; i < N; i++) {
    const res = await ask(i);
    t.equal(res.status, 200);
    alone.push(res.body.outputs?.[0]?.data ?? []);
  }
  const before = await modelRuns(url, 'weather');
  t.equal(before, N, 'one run per request when they come one by one');

  // A request to an idle model is sent at once, so one-row requests overlap only behind a run in flight: a
  // long run (200k rows) is started first, and the N requests arrive while it holds the only worker.
  const rows = 200_000;
  const long = infer(url, 'weather', {
    name: 'features',
    datatype: 'FP32',
    shape: [rows, 6],
    data: Array.from({ length: rows * 6 }, (_, k) => (k % 7) / 7),
  });
  const together = await Promise.all(Array.from({ length: N }, (_, i) => ask(i)));
  t.equal((await long).status, 200);
  const runs = (await modelRuns(url, 'weather')) - before - 1;
  t.comment(`${N} concurrent requests were served in ${runs} model run(s)`);
  t.ok(runs < N, `${runs} runs for ${N} concurrent requests`);
  together.forEach((res, i) => {
    t.equal(res.status, 200);
    const got = res.body.outputs?.[0];
    t.same(got?.shape, [1, 5]);
    const expected = alone[i] ?? [];
    const close = got?.data.every((v, j) => Math.abs(v - (expected[j] ?? NaN)) < 1e-6);
    t.ok(close, `request ${i} got its own answer`);
  });
  const distinct = new Set(together.map((r) => JSON.stringify(r.body.outputs?.[0]?.data)));
  t.equal(distinct.size, N, 'different inputs, different answers');
});

t.test('a request that fails its batch fails alone', async (t) => {
  const repo = await tempDir(t);
  await writeModel(repo, 'lookup', 1, lookupModel(), LOOKUP_CONTRACT('lookup'));
  const url = await startServer(t, { models: repo, workers: 1, maxQueueDelayMs: 50 });
  const indices = [0, 3, 99, 7, 1, 9, 5, 2];
  const counts = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return {
      text,
      runs: metric(text, 'model_batch_size_rows_count', 'model_name="lookup"'),
      single: metric(text, 'model_batch_size_rows_bucket', 'le="1",model_name="lookup"'),
    };
  };
  // As above, a long run goes first so the requests queue behind it and leave as batches. A Gather over 200k
  // rows takes about a millisecond, so on a loaded machine the requests can all arrive after it: rounds are
  // repeated (each checked in full) until one has batched, at most 10.
  let rounds = 0;
  let batched = false;
  while (!batched && rounds < 10) {
    rounds++;
    const before = await counts();
    const rows = 200_000;
    const long = infer(url, 'lookup', {
      name: 'i',
      datatype: 'INT64',
      shape: [rows, 1],
      data: Array.from({ length: rows }, (_, k) => k % 10),
    });
    const results = await Promise.all(
      indices.map((i) => infer(url, 'lookup', { name: 'i', datatype: 'INT64', shape: [1, 1], data: [i] })),
    );
    t.equal((await long).status, 200);
    results.forEach((res, k) => {
      const i = indices[k] ?? -1;
      if (i === 99) {
        t.equal(res.status, 500, 'the bad index fails');
        t.same(res.body, { error: 'Internal server error' });
      } else {
        t.equal(res.status, 200, `index ${i} succeeds`);
        t.same(res.body.outputs?.[0]?.data, [20 * i, 20 * i + 10]);
        t.same(res.body.outputs?.[0]?.shape, [1, 1, 2]);
      }
    });
    const after = await counts();
    // The long run is one of the runs counted, and not a one-row run.
    batched = after.runs - before.runs - 1 > after.single - before.single;
  }
  t.ok(batched, `requests were batched (in round ${rounds})`);
  t.match(
    (await counts()).text,
    new RegExp(
      `model_prediction_errors_total\\{model_name="lookup",model_version="1",reason="inference"\\} ${rounds}\n`,
    ),
    'one error per round: the bad request alone',
  );
});

t.test('batches never exceed maxBatchSize rows', async (t) => {
  const url = await startServer(t, { workers: 1, maxQueueDelayMs: 50, maxBatchSize: 4 });
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      infer(url, 'weather', { name: 'features', datatype: 'FP32', shape: [1, 6], data: row(i) }),
    ),
  );
  t.ok(results.every((r) => r.status === 200));
  const text = await (await fetch(`${url}/metrics`)).text();
  const upTo4 = metric(text, 'model_batch_size_rows_bucket', 'le="4",model_name="weather"');
  const all = metric(text, 'model_batch_size_rows_count', 'model_name="weather"');
  t.equal(upTo4, all, 'every run had at most 4 rows');
  t.ok(all >= 3, `${all} runs for 12 rows`);
});
