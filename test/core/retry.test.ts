import t from 'tap';
import {
  DEFAULT_RETRY_POLICY,
  MAX_RETRY_AFTER_MS,
  isBadInputStatus,
  isRetryableErrorCode,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
} from '../../lib/core/retry.js';
import { scoreBisecting } from '../../lib/core/bisect.js';
import type { Tensor } from '../../lib/core/tensor.js';

t.test('which statuses and errors are retried', async (t) => {
  t.same([408, 429, 500, 502, 503, 504, 599].map(isRetryableStatus), [
    true,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
  t.same([200, 400, 401, 404, 413, 422, 501].map(isRetryableStatus), [
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
  t.same([400, 422, 404, 500].map(isBadInputStatus), [true, true, false, false]);
  t.ok(isRetryableErrorCode('ECONNRESET') && isRetryableErrorCode('UND_ERR_SOCKET'));
  t.notOk(isRetryableErrorCode('UND_ERR_ABORTED') || isRetryableErrorCode(undefined));
});

t.test('Retry-After: delay-seconds or an HTTP-date, clamped', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(parseRetryAfter('2', now), 2000);
  t.equal(parseRetryAfter(' 0 ', now), 0);
  t.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  t.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date in the past means now');
  t.equal(parseRetryAfter('86400', now), MAX_RETRY_AFTER_MS);
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter('-3', now), undefined);
  t.equal(parseRetryAfter(undefined, now), undefined);
});

t.test('backoff is exponential with full jitter, capped; Retry-After wins', async (t) => {
  const policy = DEFAULT_RETRY_POLICY;
  t.same(
    [1, 2, 3, 4].map((a) => retryDelay(a, policy, undefined, () => 0.999999)),
    [99, 199, 399, 799],
  );
  t.equal(
    retryDelay(1, policy, undefined, () => 0),
    0,
    'full jitter starts at 0',
  );
  t.equal(
    retryDelay(30, policy, undefined, () => 0.5),
    policy.maxDelayMs / 2,
    'capped at maxDelayMs',
  );
  t.equal(
    retryDelay(1, policy, 1500, () => 0),
    1500,
  );
});

t.test('scoreBisecting isolates refused rows and scores the rest', async (t) => {
  const refusal = new Error('bad row');
  let calls = 0;
  // Row i has feature i; rows 3 and 6 are refused. Outputs are the feature, one per row.
  const score = async ([input]: Tensor[]): Promise<Tensor[]> => {
    calls++;
    const data = (input as Tensor).data as Float32Array;
    if (data.some((v) => v === 3 || v === 6)) throw refusal;
    return [{ name: 'y', datatype: 'FP32', shape: [data.length, 1], data: Float32Array.from(data) }];
  };
  const inputs: Tensor[] = [
    { name: 'x', datatype: 'FP32', shape: [8, 1], data: Float32Array.from({ length: 8 }, (_, i) => i) },
  ];
  const result = await scoreBisecting(score, inputs, (e) => e === refusal);
  t.same(result.kept, [0, 1, 2, 4, 5, 7]);
  t.same(
    result.outputs.map((o) => [o.name, o.shape, Array.from(o.data as Float32Array)]),
    [['y', [6, 1], [0, 1, 2, 4, 5, 7]]],
  );
  t.same(
    result.refused.map((r) => r.index),
    [3, 6],
  );
  t.ok(calls <= 1 + 2 * 2 * Math.log2(8), `bounded requests (${calls})`);
  await t.rejects(
    scoreBisecting(
      async () => Promise.reject(new Error('down')),
      inputs,
      (e) => e === refusal,
    ),
    /down/,
    'other errors are not bisected',
  );
});
