/**
 * The soak at CI size (issue #10 point 5): 20 000 single-row requests at 64 connections against a real
 * `batch-infer serve` of the build (npm test builds it first), after a warm-up: no request fails, every row is
 * scored once, and the server's live heap (after a full collection, through its inspector) grows less than
 * 10 %. The full size (200 000) is `npm run soak` (scripts/soak.ts).
 */
import t from 'tap';
import { MAX_HEAP_GROWTH, serveBuilt, soak } from '../../scripts/soak.js';

const REQUESTS = 20_000;

t.test('20 000 requests at 64 connections: none fails, none is lost, the live heap stays flat', async (t) => {
  const server = await serveBuilt();
  t.teardown(async () => {
    await server.stop();
  });
  const result = await soak({
    url: server.url,
    inspector: server.inspector,
    requests: REQUESTS,
    connections: 64,
  });
  t.comment(
    `${Math.round(result.requestsPerSecond)} requests/s, p99 ${result.latencyP99Ms} ms; live heap ${result.heapAfterWarmupMiB.toFixed(1)} → ${result.heapAfterRunMiB.toFixed(1)} MiB (${(result.heapGrowth * 100).toFixed(1)} %); RSS ${result.rssAfterWarmupMiB.toFixed(1)} → ${result.rssAfterRunMiB.toFixed(1)} MiB`,
  );
  t.same(result.failed, { errors: 0, timeouts: 0, non2xx: 0 }, 'no request failed');
  t.equal(result.rowsScored, REQUESTS, 'the server scored every row exactly once');
  t.ok(result.heapGrowth < MAX_HEAP_GROWTH, `the live heap grew less than ${MAX_HEAP_GROWTH * 100} %`);
  t.equal(await server.stop(), 0, 'the server exits 0 on SIGTERM');
});
