/**
 * The worker pool on its own: runs, crash recovery (a dead worker's work fails with BI_ERR_INFERENCE and a
 * replacement serves what follows), workers that cannot start, and close().
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { BUNDLED_MODELS_DIR } from '../../lib/model-files.js';
import { WorkerPool, type PoolModel } from '../../server/inference/worker-pool.js';
import type { Tensor } from '../../server/inference/types.js';

const crashWorker = new URL('../fixtures/crash-worker.ts', import.meta.url);

async function weather(): Promise<PoolModel> {
  return {
    onnx: await readFile(join(BUNDLED_MODELS_DIR, 'weather', '1', 'model.onnx')),
    inputNames: ['features'],
    outputNames: ['probabilities'],
  };
}

const features = (first: number): Tensor[] => [
  { name: 'features', datatype: 'FP32', shape: [1, 6], data: new Float32Array([first, 0, 0, 0, 0, 0]) },
];

t.test('a crashed worker fails its run, is replaced, and the pool keeps serving', async (t) => {
  const pool = new WorkerPool({ size: 1, intraOpThreads: 1, workerUrl: crashWorker });
  t.teardown(() => pool.close());
  await pool.load('weather', await weather());
  const [before] = await pool.run('weather', features(0.5), ['probabilities']);
  t.equal(before?.data.length, 5);

  const crash = pool.run('weather', features(666), ['probabilities']);
  const queued = pool.run('weather', features(0.5), ['probabilities']);
  await t.rejects(crash, { code: 'BI_ERR_INFERENCE', message: /worker stopped \(exit code 3\)/ });
  const [after] = await queued;
  t.same(after?.data, before?.data, 'the replacement worker loaded the same model');
});

t.test('an unknown model and a pool whose workers cannot start fail instead of hanging', async (t) => {
  const pool = new WorkerPool({ size: 1, intraOpThreads: 1 });
  t.teardown(() => pool.close());
  await t.rejects(pool.run('nope', features(0), ['probabilities']), {
    code: 'BI_ERR_INFERENCE',
    message: /not loaded/,
  });

  const broken = new WorkerPool({
    size: 2,
    intraOpThreads: 1,
    workerUrl: new URL('./no-such-worker.ts', import.meta.url),
  });
  t.teardown(() => broken.close());
  await t.rejects(broken.load('weather', await weather()), { code: 'BI_ERR_INFERENCE' });
  await t.rejects(broken.load('weather', await weather()), { message: /cannot start/ });
});

t.test('a model that onnxruntime refuses fails to load with BI_ERR_MODEL_CONTRACT', async (t) => {
  const pool = new WorkerPool({ size: 2, intraOpThreads: 1 });
  t.teardown(() => pool.close());
  await t.rejects(
    pool.load('junk', { onnx: new Uint8Array([1, 2, 3]), inputNames: ['a'], outputNames: ['b'] }),
    { code: 'BI_ERR_MODEL_CONTRACT', message: /onnxruntime cannot load/ },
  );
  await t.rejects(pool.load('weather', { ...(await weather()), inputNames: ['other'] }), {
    code: 'BI_ERR_MODEL_CONTRACT',
    message: /names input other that model.onnx lacks/,
  });
});

t.test('close() lets queued runs finish', async (t) => {
  const pool = new WorkerPool({ size: 1, intraOpThreads: 1 });
  await pool.load('weather', await weather());
  const runs = [1, 2, 3].map((i) => pool.run('weather', features(i), ['probabilities']));
  await pool.close();
  const results = await Promise.all(runs);
  t.equal(results.length, 3);
  await t.rejects(pool.run('weather', features(0), ['probabilities']), { message: /closed/ });
});
