/**
 * The defaults a run resolves when its options leave them out: batch size and concurrency by protocol
 * (benchmarks/README.md says why each is what it is).
 */
import t from 'tap';
import { normalizePipelineOptions } from '../../lib/pipeline-options.js';
import type { Protocol } from '../../lib/pipeline-options.js';

const resolve = (protocol: Protocol, extra: object = {}) =>
  normalizePipelineOptions({
    input: 'in.csv',
    output: 'out.csv',
    protocol,
    ...(protocol === 'local' ? {} : { url: 'http://127.0.0.1:1' }),
    ...extra,
  });

t.test('batch size and concurrency by protocol, unless given', async (t) => {
  const expected: Record<Protocol, [number, number]> = {
    local: [4096, 1],
    'v2-binary': [4096, 2],
    'v2-json': [4096, 2],
    'v2-grpc': [4096, 2],
    vertex: [1024, 2],
    sagemaker: [1024, 2],
  };
  for (const [protocol, [batchSize, concurrency]] of Object.entries(expected) as [
    Protocol,
    [number, number],
  ][]) {
    const o = resolve(protocol);
    t.same([o.batchSize, o.concurrency], [batchSize, concurrency], protocol);
    t.equal(resolve(protocol, { batchSize: 300 }).batchSize, 300, `${protocol}: batchSize given`);
  }
  t.equal(
    normalizePipelineOptions({ input: 'in.csv', output: 'out.csv', url: 'http://127.0.0.1:1' }).batchSize,
    4096,
    'protocol chosen from the server later',
  );
});
