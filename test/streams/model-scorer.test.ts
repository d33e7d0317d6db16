import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Batcher, ModelScorer, type BatchScorer, type ScoredBatch } from '../../lib/index.js';
import type { FeaturizedRow } from '../../lib/types.js';

/**
 * A scorer whose answer (output `p`, one value per row) is the row's first feature, after a random delay:
 * out-of-order completion.
 */
function slowScorer(
  maxDelayMs: number,
  state = { inflight: 0, peak: 0 },
): BatchScorer & { state: typeof state } {
  return {
    state,
    async score([x]) {
      state.inflight++;
      state.peak = Math.max(state.peak, state.inflight);
      await new Promise((r) => setTimeout(r, Math.random() * maxDelayMs));
      state.inflight--;
      const rows = x?.shape[0] ?? 0;
      const out = new Float32Array(rows);
      for (let i = 0; i < rows; i++) out[i] = (x?.data as Float32Array)[i] as number;
      return [{ name: 'p', datatype: 'FP32', shape: [rows, 1], data: out }];
    },
    close: async () => undefined,
  };
}

function rows(n: number): FeaturizedRow[] {
  return Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    values: [String(i)],
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(i) }],
  }));
}

t.test('results come out in input order under random latency with concurrency 16', async (t) => {
  const scorer = slowScorer(20);
  const seen: number[] = [];
  await pipeline(
    Readable.from(rows(2000)),
    new Batcher({ batchSize: 7 }),
    new ModelScorer({ scorer, concurrency: 16, probabilities: 'p' }),
    new Writable({
      objectMode: true,
      write(batch: ScoredBatch, _e, cb) {
        for (const p of batch.probabilities) seen.push(p);
        const [out] = batch.outputs;
        if (out?.name !== 'p' || out.shape[0] !== batch.rows.length) throw new Error('not the answer');
        cb();
      },
    }),
  );
  t.equal(seen.length, 2000);
  t.ok(
    seen.every((v, i) => v === i),
    'every row in input order',
  );
  t.equal(scorer.state.peak, 16, 'reached but never exceeded the concurrency limit');
});

t.test('a slow sink bounds the batches in flight', async (t) => {
  const scorer = slowScorer(1);
  let written = 0;
  let maxAhead = 0;
  const source = Readable.from(rows(500));
  await pipeline(
    source,
    new Batcher({ batchSize: 5 }),
    new ModelScorer({ scorer, concurrency: 4 }),
    new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(batch: ScoredBatch, _e, cb) {
        written += batch.rows.length;
        maxAhead = Math.max(maxAhead, scorer.state.inflight);
        setTimeout(cb, 2);
      },
    }),
  );
  t.equal(written, 500);
  t.ok(maxAhead <= 4, `in-flight stayed within concurrency (${maxAhead})`);
});

t.test('a failing request fails the pipeline and tears down every stage', async (t) => {
  const failing: BatchScorer = {
    score: async ([x]) => {
      if ((x?.shape[0] ?? 0) > 0) throw new Error('model exploded');
      return [];
    },
    close: async () => undefined,
  };
  const source = Readable.from(rows(100));
  const batcher = new Batcher({ batchSize: 10 });
  const scorer = new ModelScorer({ scorer: failing, concurrency: 2 });
  await t.rejects(
    pipeline(source, batcher, scorer, new Writable({ objectMode: true, write: (_c, _e, cb) => cb() })),
    /model exploded/,
  );
  t.ok(source.destroyed && batcher.destroyed && scorer.destroyed, 'all stages destroyed');
});

t.test('destroying a stage mid-stream tears the pipeline down', async (t) => {
  const batcher = new Batcher({ batchSize: 3 });
  const scorer = new ModelScorer({ scorer: slowScorer(5), concurrency: 2 });
  let count = 0;
  const sink = new Writable({
    objectMode: true,
    write(_b, _e, cb) {
      if (++count === 3) scorer.destroy(new Error('stop here'));
      cb();
    },
  });
  await t.rejects(pipeline(Readable.from(rows(1000)), batcher, scorer, sink), /stop here/);
  t.ok(batcher.destroyed && sink.destroyed);
});

t.test('aborting the signal stops the run with an AbortError', async (t) => {
  const controller = new AbortController();
  const scorer = new ModelScorer({ scorer: slowScorer(5), concurrency: 2, signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await t.rejects(
    pipeline(
      Readable.from(rows(100_000)),
      new Batcher({ batchSize: 3 }),
      scorer,
      new Writable({ objectMode: true, write: (_c, _e, cb) => cb() }),
    ),
    { name: 'AbortError' },
  );
});

t.test('breaking out of for await ends the stream cleanly', async (t) => {
  const scorer = new ModelScorer({ scorer: slowScorer(2), concurrency: 3 });
  Readable.from(rows(1000))
    .pipe(new Batcher({ batchSize: 10 }))
    .pipe(scorer);
  let batches = 0;
  for await (const batch of scorer as AsyncIterable<ScoredBatch>) {
    t.equal(batch.index, batches);
    if (++batches === 4) break;
  }
  t.equal(batches, 4);
  t.ok(scorer.destroyed);
});

t.test('options are validated', async (t) => {
  const scorer = slowScorer(1);
  t.throws(() => new ModelScorer({ scorer, concurrency: 0 }), {
    code: 'BI_ERR_INVALID_OPTION',
    message: /`concurrency`: expected an integer from 1 to 1024, got 0/,
  });
  t.throws(() => new Batcher({ batchSize: 2.5 }), { message: /`batchSize`.*got 2.5/ });
  t.throws(() => new Batcher({ size: 3 } as never), { message: /Unknown option `size` for Batcher/ });
});
