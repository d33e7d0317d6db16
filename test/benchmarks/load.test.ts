import t from 'tap';
import { parseH2loadSummary } from '../../benchmarks/lib/load.js';

/** h2load's summary as it printed it in CI for a one-second run (durations under a second print in ms). */
const SHORT_RUN = `starting benchmark...
Application protocol: h2c

finished in 996.61ms, 5965.00 req/s, 766.20KB/s
requests: 5965 total, 5981 started, 5965 done, 5965 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 5968 2xx, 0 3xx, 0 4xx, 0 5xx
`;

t.test('h2load summaries in ms and in s, with and without failures', async (t) => {
  t.same(parseH2loadSummary(SHORT_RUN), { requests: 5965, seconds: 0.99661, rps: 5965, errors: 0 });
  const long = SHORT_RUN.replace('996.61ms', '8.00s').replace(
    '5965 done, 5965 succeeded, 0 failed, 0 errored, 0 timeout',
    '5965 done, 5960 succeeded, 5 failed, 1 errored, 1 timeout',
  );
  t.same(parseH2loadSummary(long), { requests: 5965, seconds: 8, rps: 5965, errors: 5 });
  t.throws(() => parseH2loadSummary('h2load: connection refused\n'), /unexpected h2load output/);
});
