/**
 * The soak at CI size (issue #10 point 5): 20 000 single-row requests at 64 connections against a real
 * `batch-infer serve`, after a warm-up: no request fails, every row is scored once, and the server's RSS grows
 * less than 10 %. The full size (200 000) is `npm run soak` (scripts/soak.ts).
 */
import t from 'tap';
import { MAX_RSS_GROWTH, soak } from '../../scripts/soak.js';
import { serveCli } from '../cli/spawn-cli.js';

t.test('20 000 requests at 64 connections: none fails, none is lost, RSS stays flat', async (t) => {
  const server = await serveCli(t);
  const result = await soak({ url: server.url, requests: 20_000, connections: 64 });
  t.comment(
    `${Math.round(result.requestsPerSecond)} requests/s, p99 ${result.latencyP99Ms} ms; RSS ${result.rssAfterWarmupMiB.toFixed(1)} → ${result.rssAfterRunMiB.toFixed(1)} MiB (${(result.rssGrowth * 100).toFixed(1)} %)`,
  );
  t.same(result.failed, { errors: 0, timeouts: 0, non2xx: 0 }, 'no request failed');
  t.equal(result.rowsScored, 20_000, 'the server scored every row exactly once');
  t.ok(result.rssGrowth < MAX_RSS_GROWTH, `RSS grew less than ${MAX_RSS_GROWTH * 100} %`);
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});
