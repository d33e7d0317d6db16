/**
 * Issue point 5: the bounded queue and deadlines. A full queue answers 503 with Retry-After; a request whose
 * deadline passes while it waits is answered 504 and dropped before it is computed.
 */
import t, { type Test } from 'tap';
import { startServer, tempDir } from '../helpers.js';
import { slowModel, SLOW_CONTRACT, writeModel } from './model-fixtures.js';
import { infer, metric, modelRuns, sleep } from './v2-client.js';

const X = { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] };

async function slowRepo(t: Test): Promise<string> {
  const repo = await tempDir(t);
  await writeModel(repo, 'slow', 1, slowModel(12), SLOW_CONTRACT('slow'));
  return repo;
}

t.test('a full queue answers 503 with Retry-After', async (t) => {
  const url = await startServer(t, { models: await slowRepo(t), workers: 1, maxQueueSize: 1 });
  // Wait on the server's own state, not on fixed sleeps: a loaded CI machine can take longer than any sleep.
  const until = async (name: string, labels: string, value: number): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      if (metric(await (await fetch(`${url}/metrics`)).text(), name, labels) >= value) return;
      await sleep(10);
    }
    throw new Error(`${name}{${labels}} never reached ${value}`);
  };
  const running = infer(url, 'slow', X);
  await until('model_queue_duration_seconds_count', 'model_name="slow"', 1); // left the queue for the worker
  const queued = infer(url, 'slow', X);
  await until('model_inflight_requests', 'model_name="slow"', 2); // waiting in the one-slot queue
  const refused = await infer(url, 'slow', X);
  t.equal(refused.status, 503);
  t.equal(refused.headers.get('retry-after'), '1');
  t.match(refused.body.error, /Internal server error|queue/);
  t.equal((await running).status, 200);
  t.equal((await queued).status, 200);
  const text = await (await fetch(`${url}/metrics`)).text();
  t.equal(metric(text, 'model_prediction_errors_total', 'reason="overloaded"'), 1);
});

t.test('a request whose deadline passes in the queue gets 504 and is never computed', async (t) => {
  const url = await startServer(t, { models: await slowRepo(t), workers: 1, requestTimeoutMs: 250 });
  const first = infer(url, 'slow', X);
  await sleep(50);
  const second = infer(url, 'slow', X);
  t.equal((await first).status, 504, 'the running request times out');
  t.equal((await second).status, 504, 'so does the one waiting behind it');
  // Let the first run finish, so the queued request reaches the head of the queue and is dropped there.
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (metric(text, 'model_prediction_errors_total', 'reason="timeout"') > 0) break;
    await sleep(50);
  }
  t.equal(await modelRuns(url, 'slow'), 1, 'only the first request was computed');
  const text = await (await fetch(`${url}/metrics`)).text();
  t.equal(metric(text, 'model_prediction_errors_total', 'reason="timeout"'), 1, 'the second was dropped');
});
