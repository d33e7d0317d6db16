/** The pure parts of dynamic batching: when a batch is due, what it takes, and concatenating/splitting tensors. */
import t from 'tap';
import { DynamicBatcher, type Queued } from '../../server/inference/dynamic-batcher.js';
import { batchKey, concatInputs, splitOutputs } from '../../server/inference/batch-tensors.js';
import type { Tensor } from '../../server/inference/types.js';

const OPTIONS = { maxBatchSize: 4, maxQueueDelayMs: 10, maxQueueSize: 5, model: 'm' };
const request = (rows: number, queuedAt: number, key = 'k', deadline?: number): Queued & { id: string } => ({
  id: `${key}${rows}@${queuedAt}`,
  key,
  rows,
  queuedAt,
  deadline,
});

t.test('a batch is due when full or when the oldest request has waited maxQueueDelayMs', async (t) => {
  const b = new DynamicBatcher<Queued & { id: string }>(OPTIONS);
  t.equal(b.due(0), undefined, 'nothing queued');
  b.push(request(1, 100));
  b.push(request(2, 103));
  t.equal(b.due(104), 6, 'wait for the delay of the oldest');
  t.equal(b.due(111), 0);
  b.push(request(1, 105, 'other'));
  t.equal(b.due(105), 5, 'other keys do not fill the batch');
  b.push(request(1, 106));
  t.equal(b.due(106), 0, '4 rows of the same key: full');
  t.same(
    b.take().map((r) => r.id),
    ['k1@100', 'k2@103', 'k1@106'],
  );
  t.same(
    b.take().map((r) => r.id),
    ['other1@105'],
  );
  t.same(b.take(), []);
});

t.test('maxBatchSize caps rows; a bigger request runs alone; 0 turns batching off', async (t) => {
  const b = new DynamicBatcher<Queued & { id: string }>(OPTIONS);
  for (const r of [request(3, 0), request(2, 1), request(1, 2), request(9, 3)]) b.push(r);
  t.same(
    b.take().map((r) => r.rows),
    [3, 1],
  );
  t.same(
    b.take().map((r) => r.rows),
    [2],
  );
  t.same(
    b.take().map((r) => r.rows),
    [9],
  );
  const off = new DynamicBatcher({ ...OPTIONS, maxBatchSize: 0 });
  off.push(request(1, 0));
  off.push(request(1, 0));
  t.equal(off.due(0), 0);
  t.equal(off.take().length, 1);
});

t.test('a full queue refuses with BI_ERR_OVERLOADED; expired requests leave the queue', async (t) => {
  const b = new DynamicBatcher<Queued & { id: string }>(OPTIONS);
  for (let i = 0; i < 5; i++) b.push(request(1, i, 'k', i < 2 ? 1000 : undefined));
  t.throws(() => b.push(request(1, 9)), { code: 'BI_ERR_OVERLOADED', message: /queue of model "m" is full/ });
  t.same(
    b.expire(1000).map((r) => r.queuedAt),
    [0, 1],
  );
  t.equal(b.length, 3);
  t.doesNotThrow(() => b.push(request(1, 9)));
});

const tensor = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: new Float32Array(values),
});

t.test('inputs concatenate along dim 0 and outputs split back per request', async (t) => {
  const a = [tensor('x', [1, 2], [1, 2]), tensor('y', [1, 1], [9])];
  const b = [tensor('y', [2, 1], [8, 7]), tensor('x', [2, 2], [3, 4, 5, 6])];
  t.equal(batchKey(a), batchKey(b), 'input order does not matter');
  t.not(batchKey(a), batchKey([tensor('x', [1, 3], [1, 2, 3]), tensor('y', [1, 1], [9])]));
  const [x, y] = concatInputs([a, b]);
  t.same(x?.shape, [3, 2]);
  t.same([...(x?.data ?? [])], [1, 2, 3, 4, 5, 6]);
  t.same([...(y?.data ?? [])], [9, 8, 7]);

  const out = [tensor('p', [3, 2], [10, 11, 20, 21, 30, 31]), tensor('q', [3], [1, 2, 3])];
  const [first, second] = splitOutputs(out, [1, 2], [['q', 'p'], ['p']]);
  t.same(
    first?.map((o) => [o.name, o.shape, [...o.data]]),
    [
      ['q', [1], [1]],
      ['p', [1, 2], [10, 11]],
    ],
  );
  t.same(
    second?.map((o) => [o.name, o.shape, [...o.data]]),
    [['p', [2, 2], [20, 21, 30, 31]]],
  );
  t.throws(() => splitOutputs([tensor('p', [1, 2], [1, 2])], [1, 2], [['p'], ['p']]), {
    code: 'BI_ERR_INFERENCE',
  });
});
