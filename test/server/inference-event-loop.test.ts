/**
 * Issue point 4: inference runs in worker threads, so while a deliberately slow model is busy the event loop
 * still answers `/v2/health/live` within 50 ms. A blocked loop would make a check wait for the whole run
 * (≥ 300 ms) on every attempt; a busy machine (CI, parallel test files) adds random delays, so the test
 * makes up to five attempts and needs one in which every check was under 50 ms.
 */
import { performance } from 'node:perf_hooks';
import t from 'tap';
import { startServer, tempDir } from '../helpers.js';
import { slowModel, SLOW_CONTRACT, writeModel } from './model-fixtures.js';
import { infer, sleep } from './v2-client.js';

/** Runs the slow model once and times health checks made while it runs. */
async function healthWhileBusy(url: string): Promise<{ runMs: number; latencies: number[]; data: unknown }> {
  const started = performance.now();
  let finished = 0;
  const running = () => finished === 0;
  const busy = infer(url, 'slow', { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }).then(
    (r) => {
      finished = performance.now();
      return r;
    },
  );
  await sleep(30);
  const latencies: number[] = [];
  while (running()) {
    const before = performance.now();
    const res = await fetch(`${url}/v2/health/live`);
    await res.arrayBuffer();
    // Only checks answered while the model was still running count.
    if (running() && res.status === 200) latencies.push(performance.now() - before);
    await sleep(15);
  }
  const result = await busy;
  return { runMs: finished - started, latencies, data: result.body.outputs?.[0]?.data };
}

t.test('/v2/health/live answers within 50 ms while a model runs', async (t) => {
  const repo = await tempDir(t);
  await writeModel(repo, 'slow', 1, slowModel(12), SLOW_CONTRACT('slow'));
  const url = await startServer(t, { models: repo, workers: 1 });
  await fetch(`${url}/v2/health/live`); // opens the keep-alive connection

  const worst: number[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    const { runMs, latencies, data } = await healthWhileBusy(url);
    t.same(data, [1 + 6 + 15 + 28, 2 + 8 + 18 + 32], 'the slow model answers right');
    t.ok(runMs >= 300, `the model ran ${runMs.toFixed(0)} ms (≥ 300 ms)`);
    t.ok(latencies.length >= 5, `${latencies.length} health checks while it ran`);
    worst.push(Math.max(...latencies));
    t.comment(`attempt ${attempt}: slowest of ${latencies.length} checks ${worst.at(-1)?.toFixed(1)} ms`);
    if ((worst.at(-1) ?? Infinity) < 50) break;
  }
  const best = Math.min(...worst);
  t.ok(
    best < 50,
    `every health check answered in < 50 ms while the model ran (slowest ${best.toFixed(1)} ms)`,
  );
});
