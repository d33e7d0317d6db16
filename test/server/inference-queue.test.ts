/**
 * Issue point 5: the bounded queue and deadlines. A full queue answers 503 with Retry-After; a request whose
 * deadline passes while it waits is answered 504 and dropped before it is computed.
 *
 * The run that keeps the worker busy is held by the test (run-gate.ts) until it is released, not made slow by
 * a costly model: a busy machine once let such a "slow" run end before the deadline it was meant to outlast
 * (issue #20). Every wait is on an event: a run reaching the worker, the server's metrics, a response.
 */
import t, { type Test } from 'tap';
import { startServer, tempDir } from '../helpers.js';
import { slowModel, SLOW_CONTRACT, writeModel } from './model-fixtures.js';
import { holdRuns } from './run-gate.js';
import { infer, metric, modelRuns, sleepUntil, untilMetric } from './v2-client.js';

const X = { name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] };

/** A repository with one cheap model: how long its runs last is up to the gate. */
async function repo(t: Test): Promise<string> {
  const dir = await tempDir(t);
  await writeModel(dir, 'held', 1, slowModel(1, 8), SLOW_CONTRACT('held'));
  return dir;
}

t.test('a full queue answers 503 with Retry-After', async (t) => {
  const url = await startServer(t, { models: await repo(t), workers: 1, maxQueueSize: 1, inThreadRunUs: 0 });
  const gate = holdRuns(t);
  const running = infer(url, 'held', X);
  await gate.until(() => gate.held === 1); // left the queue for the (only) worker, which it keeps busy
  const queued = infer(url, 'held', X);
  await untilMetric(url, 'model_inflight_requests', 'model_name="held"', 2); // waiting in the one-slot queue
  const refused = await infer(url, 'held', X);
  t.equal(refused.status, 503);
  t.equal(refused.headers.get('retry-after'), '1');
  t.match(refused.body.error, /Internal server error|queue/);
  gate.open();
  t.equal((await running).status, 200);
  t.equal((await queued).status, 200);
  const text = await (await fetch(`${url}/metrics`)).text();
  t.equal(metric(text, 'model_prediction_errors_total', 'reason="overloaded"'), 1);
  t.equal(await modelRuns(url, 'held'), 2, 'the running and the queued request were computed');
});

t.test('a request whose deadline passes in the queue gets 504 and is never computed', async (t) => {
  const timeoutMs = 200;
  const url = await startServer(t, {
    models: await repo(t),
    workers: 1,
    requestTimeoutMs: timeoutMs,
    inThreadRunUs: 0,
  });
  const gate = holdRuns(t);
  const first = infer(url, 'held', X);
  await gate.until(() => gate.held === 1); // the first request's run holds the only worker
  const second = infer(url, 'held', X);
  await untilMetric(url, 'model_inflight_requests', 'model_name="held"', 2); // queued behind it
  // The server set the second request's deadline before it counted it in flight, so before now.
  const deadlineBound = Date.now() + timeoutMs;
  t.equal((await first).status, 504, 'the running request times out');
  t.equal((await second).status, 504, 'so does the one waiting behind it');
  // The 504 comes from a timer, which may fire a little before the wall clock reaches the deadline: let the
  // deadline pass for sure before the worker frees up, so the queued request is dropped at the head of the queue.
  await sleepUntil(deadlineBound);
  gate.open();
  await untilMetric(url, 'model_prediction_errors_total', 'reason="timeout"', 1);
  t.equal(await modelRuns(url, 'held'), 1, 'only the first request was computed');
  const text = await (await fetch(`${url}/metrics`)).text();
  t.equal(metric(text, 'model_prediction_errors_total', 'reason="timeout"'), 1, 'the second was dropped');
});
