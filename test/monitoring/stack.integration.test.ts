// Acceptance test of the monitoring stack (issue #8): real Prometheus, Pushgateway and Alertmanager (the Debian
// packages) on free loopback ports, configured from the shipped deploy/prometheus files; a real model server
// scraped as job `model-server`; and a real `batch-infer run` over a model server with a fault that must alert:
// a tenth of its rows are invalid, which breaks BatchInferenceRowFailureRatioHigh's 1 % line. Found through the
// HTTP APIs: the server's request counter in Prometheus, the pushed run in the Pushgateway and in Prometheus,
// the alert in Alertmanager, and its notification at the `ticket` webhook.
//
// Only timing is changed for the test (stack-config.ts): 1 s scrape and evaluation intervals, a 1 s `for` on the
// alert (5m in rules.yml), a 1 s group wait. Every wait is a bounded poll (stack-process.ts), and every process
// is killed in teardown. Without the three programs the test is skipped and says so.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/spawn-cli.js';
import { startServer, WEATHER_CSV } from '../helpers.js';
import { alertmanagerConfig, prometheusConfig, shippedConfigs, shortenFor } from './stack-config.js';
import { freePort, getJson, startDaemon, waitFor, webhookReceiver } from './stack-process.js';

const PROMETHEUS = 'prometheus';
const PUSHGATEWAY = 'prometheus-pushgateway';
const ALERTMANAGER = 'prometheus-alertmanager';
const ALERT = 'BatchInferenceRowFailureRatioHigh';
const PIPELINE = 'stack-test';

const missing = [PROMETHEUS, PUSHGATEWAY, ALERTMANAGER].filter(
  (program) => spawnSync(program, ['--version']).status !== 0,
);
const skip =
  missing.length === 0
    ? false
    : `${missing.join(', ')} not installed (apt-get install prometheus prometheus-pushgateway prometheus-alertmanager); CI installs them`;

interface PromVector {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

interface PushedGroup {
  labels: Record<string, string>;
  [metric: string]: unknown;
}

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string };
}

/** data/weather.csv's first `rows` rows with `temp_max` unreadable in every tenth. */
async function badRows(path: string, rows: number): Promise<number> {
  const [header = '', ...lines] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  const column = header.split(',').indexOf('temp_max');
  const kept = lines.slice(0, rows).map((line, i) => {
    if (i % 10 !== 9) return line;
    const cells = line.split(',');
    cells[column] = 'n/a';
    return cells.join(',');
  });
  await writeFile(path, [header, ...kept].join('\n') + '\n');
  return Math.floor(rows / 10);
}

/** One sample of a metrics.prom text, e.g. `x{a="b"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test(
  'the server, the pushed batch metrics and the alert reach Prometheus and Alertmanager',
  // Below tap's 180 s per file: a test's own timeout still runs its teardown, which kills the daemons.
  { skip, timeout: 150_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'batch-infer-stack-'));
    // Registered first so that it runs last: tap runs teardowns in reverse order, after every process is dead.
    t.teardown(() => rm(dir, { recursive: true, force: true }));

    const webhook = await webhookReceiver(t);
    const server = await startServer(t);
    const [pgPort, amPort, promPort] = [await freePort(), await freePort(), await freePort()];
    const pushgateway = `http://127.0.0.1:${pgPort}`;
    const alertmanager = `http://127.0.0.1:${amPort}`;
    const prometheus = `http://127.0.0.1:${promPort}`;

    const shipped = await shippedConfigs();
    const rules = join(dir, 'rules.yml');
    await writeFile(rules, shortenFor(shipped.rules, ALERT, '1s'));
    await writeFile(
      join(dir, 'prometheus.yml'),
      prometheusConfig(shipped.prometheus, {
        interval: '1s',
        rules,
        alertmanager: `127.0.0.1:${amPort}`,
        targets: {
          'model-server': new URL(server).host,
          pushgateway: `127.0.0.1:${pgPort}`,
          prometheus: `127.0.0.1:${promPort}`,
          alertmanager: `127.0.0.1:${amPort}`,
        },
      }),
    );
    await writeFile(
      join(dir, 'alertmanager.yml'),
      alertmanagerConfig(shipped.alertmanager, webhook.url, '1s'),
    );

    const quiet = '--log.level=warn';
    await Promise.all([
      startDaemon(
        t,
        PUSHGATEWAY,
        [`--web.listen-address=127.0.0.1:${pgPort}`, quiet],
        `${pushgateway}/-/ready`,
      ),
      startDaemon(
        t,
        ALERTMANAGER,
        [
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--storage.path=${join(dir, 'alertmanager')}`,
          `--web.listen-address=127.0.0.1:${amPort}`,
          '--cluster.listen-address=',
          quiet,
        ],
        `${alertmanager}/-/ready`,
      ),
    ]);
    const prom = await startDaemon(
      t,
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prometheus')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        quiet,
      ],
      `${prometheus}/-/ready`,
    );

    // The batch job, as a user runs it: the real CLI against the real server, pushing to the Pushgateway.
    const input = join(dir, 'bad-rows.csv');
    const output = join(dir, 'out', 'scored.csv');
    const invalid = await badRows(input, 400);
    const run = await runCli([
      'run',
      '--input',
      input,
      '--output',
      output,
      '--url',
      server,
      '--pushgateway',
      pushgateway,
      '--pipeline-name',
      PIPELINE,
    ]);
    t.equal(run.code, 0, 'the run succeeds with its rejects counted', { stderr: run.stderr });
    t.notMatch(run.stderr, /could not push/, 'the push succeeded');
    const metrics = await readFile(join(dir, 'out', 'scored.metrics.prom'), 'utf8');
    t.equal(sample(metrics, 'batch_inference_rows_processed{outcome="invalid"}'), invalid);
    const requests =
      sample(metrics, 'batch_inference_request_duration_seconds_count{outcome="success"}') ?? 0;
    t.ok(requests > 0, `${requests} inference requests`);

    const query = async (promql: string): Promise<PromVector['data']['result']> =>
      ((await getJson(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`)) as PromVector).data
        .result;

    await t.test('the Pushgateway holds the run under its grouping key', async (t) => {
      const { data } = (await getJson(`${pushgateway}/api/v1/metrics`)) as { data: PushedGroup[] };
      const group = data.find((g) => g.labels.job === 'batch_inference' && g.labels.pipeline === PIPELINE);
      t.ok(group, 'a group job=batch_inference, pipeline=stack-test');
      const rows = group?.batch_inference_rows_processed as
        { metrics: { labels: Record<string, string>; value: string }[] } | undefined;
      t.same(
        rows?.metrics.find((m) => m.labels.outcome === 'invalid')?.value,
        String(invalid),
        'rows by outcome were pushed',
      );
      t.same(
        Object.keys(group?.labels ?? {}).sort(),
        ['job', 'pipeline'],
        'no run id and no instance in the key',
      );
    });

    await t.test('Prometheus scraped the pushed run with its pushed labels (honor_labels)', async (t) => {
      const series = `batch_inference_rows_processed{job="batch_inference",pipeline="${PIPELINE}",outcome="invalid"}`;
      const value = await waitFor(
        'the pushed rows in Prometheus',
        async () => (await query(series))[0]?.value[1],
        prom.log,
      );
      t.equal(Number(value), invalid);
    });

    await t.test(
      "Prometheus scraped the server's request counter, matching the client's count",
      async (t) => {
        const promql =
          'sum(http_server_request_duration_seconds_count{job="model-server",http_route=~".*/infer"})';
        const counted = await waitFor(
          `the server's ${requests} inference requests in Prometheus`,
          async () => {
            const value = Number((await query(promql))[0]?.value[1]);
            return value === requests ? value : undefined;
          },
          prom.log,
        );
        t.equal(counted, requests, 'every request the run made, as the server counted it');
      },
    );

    await t.test(
      `Alertmanager has ${ALERT} for the pipeline, and notified the ticket receiver`,
      async (t) => {
        const filter = encodeURIComponent(`alertname="${ALERT}"`);
        const alert = await waitFor(
          `${ALERT} in Alertmanager`,
          async () =>
            ((await getJson(`${alertmanager}/api/v2/alerts?filter=${filter}`)) as AmAlert[]).find(
              (a) => a.labels.pipeline === PIPELINE,
            ),
          prom.log,
        );
        t.same(
          alert.labels,
          { alertname: ALERT, job: 'batch_inference', pipeline: PIPELINE, severity: 'ticket' },
          'the labels the rule sets, and the pushed ones',
        );
        t.equal(alert.status.state, 'active');
        const notification = await waitFor('the ticket webhook', async () =>
          webhook.received.find((n) => JSON.stringify(n.body).includes(ALERT)),
        );
        t.equal(notification.path, '/ticket', 'routed by severity to the ticket receiver');
      },
    );
  },
);
