// The monitoring artifacts in deploy/prometheus and deploy/grafana: the rules pass `promtool check rules` and
// their unit tests (`promtool test rules`, which cover every alert firing and not firing), prometheus.yml passes
// `promtool check config` from any directory, alertmanager.yml passes `amtool check-config` and routes pages and
// tickets apart, the Grafana dashboard is well formed, and every metric any PromQL query in the rules or the
// dashboard names is one the server or the batch job exports (or Prometheus itself makes). The server's real
// /metrics output passes `promtool check metrics`.
//
// promtool and amtool come from the Debian packages `prometheus` and `prometheus-alertmanager` (CI installs
// them); without promtool the promtool checks are skipped, and say so.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { createServerMetrics } from '../../server/metrics.js';
import { startServer } from '../helpers.js';

const PROMETHEUS_DIR = join(PACKAGE_ROOT, 'deploy', 'prometheus');
const GRAFANA_DIR = join(PACKAGE_ROOT, 'deploy', 'grafana');

/**
 * The batch job's metrics (research §8.1; pushed under job `batch_inference`, grouping key `pipeline`).
 * This list must match the batch metrics lib exports (being written alongside); when lib exposes its list,
 * import it here instead.
 */
const BATCH_METRICS: readonly { name: string; type: 'gauge' | 'histogram' }[] = [
  { name: 'batch_inference_last_success_timestamp_seconds', type: 'gauge' },
  { name: 'batch_inference_last_completion_timestamp_seconds', type: 'gauge' },
  { name: 'batch_inference_last_run_success', type: 'gauge' },
  { name: 'batch_inference_duration_seconds', type: 'gauge' },
  { name: 'batch_inference_stage_duration_seconds', type: 'gauge' },
  { name: 'batch_inference_rows_processed', type: 'gauge' },
  { name: 'batch_inference_rows_per_second', type: 'gauge' },
  { name: 'batch_inference_request_duration_seconds', type: 'histogram' },
  { name: 'batch_inference_request_retries', type: 'gauge' },
  { name: 'batch_inference_feature_missing_ratio', type: 'gauge' },
  { name: 'batch_inference_feature_out_of_range_ratio', type: 'gauge' },
  { name: 'batch_inference_feature_drift_score', type: 'gauge' },
  { name: 'batch_inference_drifted_features_ratio', type: 'gauge' },
  { name: 'batch_inference_prediction_drift_score', type: 'gauge' },
];

/** Series Prometheus, the Pushgateway and the rule engine make themselves. */
const BUILT_IN_METRICS = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
  'push_time_seconds',
  'push_failure_time_seconds',
];

/** prom-client's default gauges named `…_total`; `promtool check metrics` lints them (exit 3), nothing else. */
const KNOWN_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

// ---------------------------------------------------------------------------------------------------------------
// Tools

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, feeding `input` on stdin; never rejects on a non-zero exit. */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? PACKAGE_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

async function has(tool: string): Promise<boolean> {
  try {
    await promisify(execFile)(tool, ['--version']);
    return true;
  } catch {
    return false;
  }
}

const PROMTOOL = await has('promtool');
const AMTOOL = await has('amtool');
const NO_PROMTOOL = 'promtool is not installed (apt-get install prometheus); CI installs it';

// The rule unit tests take about a minute (one of them spans a week of samples): start them now, so they run
// while the other tests do.
const ruleTests = PROMTOOL
  ? run('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: PROMETHEUS_DIR })
  : null;

// ---------------------------------------------------------------------------------------------------------------
// Loading

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

const isObj = (x: Json | undefined): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const objs = (x: Json | undefined): Obj[] => (Array.isArray(x) ? x.filter(isObj) : []);
const str = (x: Json | undefined): string => (typeof x === 'string' ? x : '');

async function yamlFile(path: string): Promise<Obj> {
  return parseYaml(await readFile(path, 'utf8')) as Obj;
}

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesFile = (await yamlFile(join(PROMETHEUS_DIR, 'rules.yml'))) as unknown as {
  groups: { name: string; rules: Rule[] }[];
};
const rules = rulesFile.groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert !== undefined);
const recorded = rules.flatMap((r) => (r.record === undefined ? [] : [r.record]));
const dashboard = JSON.parse(await readFile(join(GRAFANA_DIR, 'batch-infer.json'), 'utf8')) as Obj;

// ---------------------------------------------------------------------------------------------------------------
// PromQL metric names

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression (or a Grafana `label_values(…)` query) selects. A lexical pass, enough
 * for the queries we write: strings, label matchers, ranges and label lists are removed, then every identifier
 * not called as a function and not a keyword is a metric name. Grafana variables (`$job`, `${datasource}`,
 * `$__rate_interval`) are blanked first.
 */
export function metricNames(query: string): string[] {
  let s = query.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  s = s.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const labelValues = /^\s*label_values\s*\(([^,]*),[^,)]*\)\s*$/.exec(s);
  if (labelValues) s = labelValues[1] ?? '';
  else if (/^\s*label_values\s*\(/.test(s)) return []; // label_values(label): no metric
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const name = m[1] ?? '';
    if (m[2] !== undefined || PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** Every PromQL query in the dashboard: panel targets, variable queries and annotation queries. */
function dashboardQueries(d: Obj): { where: string; query: string }[] {
  const queries: { where: string; query: string }[] = [];
  for (const panel of allPanels(d)) {
    for (const target of objs(panel.targets))
      queries.push({
        where: `panel ${JSON.stringify(panel.id)} ${str(target.refId)}`,
        query: str(target.expr),
      });
  }
  for (const variable of objs(isObj(d.templating) ? d.templating.list : []))
    if (variable.type === 'query') {
      const q = variable.query;
      queries.push({ where: `variable ${str(variable.name)}`, query: isObj(q) ? str(q.query) : str(q) });
    }
  for (const annotation of objs(isObj(d.annotations) ? d.annotations.list : []))
    if (typeof annotation.expr === 'string')
      queries.push({ where: `annotation ${str(annotation.name)}`, query: annotation.expr });
  return queries;
}

function allPanels(d: Obj): Obj[] {
  return objs(d.panels).flatMap((p) => [p, ...objs(p.panels)]);
}

/** Names the server exports: its registry's metric families, with the series names histograms expand to. */
async function serverMetricNames(): Promise<Set<string>> {
  const { registry } = createServerMetrics();
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    if (String(metric.type) === 'summary')
      for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

function batchMetricNames(): Set<string> {
  return new Set(
    BATCH_METRICS.flatMap(({ name, type }) =>
      type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// promtool and amtool

t.test('promtool check rules', { skip: PROMTOOL ? false : NO_PROMTOOL }, async (t) => {
  const res = await run('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', 'rules.yml'], {
    cwd: PROMETHEUS_DIR,
  });
  t.equal(res.code, 0, res.stdout + res.stderr);
  t.match(res.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

t.test('rules.test.yml has a firing and a not-firing test for every alert', async (t) => {
  const tests = (await yamlFile(join(PROMETHEUS_DIR, 'rules.test.yml'))) as unknown as {
    rule_files: string[];
    tests: {
      name?: string;
      alert_rule_test?: { alertname: string; exp_alerts: { exp_labels?: Record<string, string> }[] }[];
    }[];
  };
  t.same(tests.rule_files, ['rules.yml']);
  const cases = tests.tests.flatMap((g) => g.alert_rule_test ?? []);
  for (const alert of alerts) {
    const mine = cases.filter((c) => c.alertname === alert.alert);
    const wanted = alert.labels ?? {};
    t.ok(
      mine.some((c) =>
        c.exp_alerts.some((a) => Object.entries(wanted).every(([k, v]) => a.exp_labels?.[k] === v)),
      ),
      `${String(alert.alert)} ${JSON.stringify(wanted)} has a firing test`,
    );
    t.ok(
      mine.some((c) => c.exp_alerts.length === 0),
      `${String(alert.alert)} has a not-firing test`,
    );
  }
  const names = new Set(alerts.map((a) => a.alert));
  t.same(
    cases.filter((c) => !names.has(c.alertname)).map((c) => c.alertname),
    [],
    'tests name only alerts that exist',
  );
});

t.test('promtool test rules rules.test.yml', { skip: ruleTests ? false : NO_PROMTOOL }, async (t) => {
  const res = await ruleTests!;
  t.equal(res.code, 0, res.stdout + res.stderr);
  t.match(res.stdout, /SUCCESS/);
});

t.test(
  'promtool check config: prometheus.yml and the rules it loads',
  { skip: PROMTOOL ? false : NO_PROMTOOL },
  async (t) => {
    // rule_files is relative to the config file: it must resolve from the file's own directory and from elsewhere.
    for (const [cwd, file] of [
      [PROMETHEUS_DIR, 'prometheus.yml'],
      [PACKAGE_ROOT, 'deploy/prometheus/prometheus.yml'],
    ] as const) {
      const res = await run('promtool', ['check', 'config', file], { cwd });
      t.equal(res.code, 0, `${file} from ${cwd}: ${res.stdout}${res.stderr}`);
      t.match(res.stdout, /SUCCESS: 1 rule files found/);
      t.match(res.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    }
    const config = await yamlFile(join(PROMETHEUS_DIR, 'prometheus.yml'));
    const jobs = objs(config.scrape_configs);
    const server = jobs.find((j) => j.job_name === 'model-server');
    t.equal(server?.metrics_path, '/metrics');
    t.equal(
      jobs.find((j) => j.job_name === 'pushgateway')?.honor_labels,
      true,
      'Pushgateway scraped with honor_labels',
    );
    t.match(JSON.stringify(config.alerting), /127\.0\.0\.1:9093/);
    // The job names the rules rely on are the ones scraped.
    for (const m of rules
      .map((r) => r.expr)
      .join('\n')
      .matchAll(/\bjob="([^"]+)"/g)) {
      const job = m[1] ?? '';
      t.ok(
        job === 'batch_inference' || jobs.some((j) => j.job_name === job),
        `job="${job}" in rules.yml is a scrape job (or the pushed batch_inference)`,
      );
    }
  },
);

t.test(
  'amtool check-config and routing of alertmanager.yml',
  { skip: AMTOOL ? false : 'amtool is not installed (apt-get install prometheus-alertmanager)' },
  async (t) => {
    const file = 'deploy/prometheus/alertmanager.yml';
    const check = await run('amtool', ['check-config', file]);
    t.equal(check.code, 0, check.stdout + check.stderr);
    for (const [labels, receiver] of [
      [['severity=page', 'alertname=ModelServerDown', 'job=model-server'], 'page'],
      [['severity=ticket', 'alertname=BatchInferenceDataDrift', 'job=batch_inference'], 'ticket'],
    ] as const) {
      const res = await run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels]);
      t.equal(res.code, 0, `amtool config routes test ${labels.join(' ')}`);
      t.equal(res.stdout.trim(), receiver, `${labels.join(' ')} goes to ${receiver}`);
    }
    const config = await yamlFile(join(PROMETHEUS_DIR, 'alertmanager.yml'));
    const inhibit = objs(config.inhibit_rules);
    const list = (x: Json | undefined): Json[] => (Array.isArray(x) ? x : []);
    t.ok(
      inhibit.some(
        (r) =>
          list(r.source_matchers).includes('severity="page"') &&
          list(r.target_matchers).includes('severity="ticket"') &&
          list(r.equal).includes('job'),
      ),
      'a page inhibits tickets of the same job',
    );
    // Every severity the rules use has a route.
    for (const severity of new Set(alerts.map((a) => a.labels?.severity)))
      t.match(
        JSON.stringify(config.route),
        new RegExp(`severity=\\\\"${String(severity)}\\\\"`),
        String(severity),
      );
  },
);

t.test(
  'promtool check metrics accepts the server /metrics output',
  { skip: PROMTOOL ? false : NO_PROMTOOL },
  async (t) => {
    const url = await startServer(t);
    // Fill the histograms and counters: one good inference, one bad request.
    const row = [0.5, -0.2, 0.1, 0.3, 0.7, -0.7];
    const ok = await fetch(`${url}/v2/models/weather/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: row }] }),
    });
    t.equal(ok.status, 200);
    await ok.arrayBuffer();
    const bad = await fetch(`${url}/v2/models/weather/infer`, { method: 'POST', body: '{not json' });
    t.equal(bad.status, 400);
    await bad.arrayBuffer();
    const text = await (await fetch(`${url}/metrics`)).text();
    t.match(
      text,
      /http_server_request_duration_seconds_bucket\{[^}]*http_route="\/v2\/models\/:model\/infer"/,
    );
    t.match(text, /model_inference_duration_seconds_count\{model_name="weather"\} [1-9]/);

    const res = await run('promtool', ['check', 'metrics'], { input: text });
    const messages = (res.stdout + res.stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const unexpected = messages.filter((l) => !KNOWN_LINT.test(l));
    t.same(unexpected, [], "no lint message besides prom-client's nodejs_active_*_total gauges");
    t.ok(
      res.code === 0 || (res.code === 3 && unexpected.length === 0),
      `promtool check metrics exit ${String(res.code)}`,
    );
  },
);

// ---------------------------------------------------------------------------------------------------------------
// Metric names

t.test('the metric-name extractor', async (t) => {
  t.same(
    metricNames(
      'sum by (le, job) (rate(a_bucket{route=~".*/x|[/:]y", b="}"}[5m] offset 1w)) / on (job) group_left b_total > bool 1e-3 and time() - c_seconds offset 1h',
    ),
    ['a_bucket', 'b_total', 'c_seconds'],
  );
  t.same(metricNames('job:slo:ratio_rate5m{job=~"$job"} > 14.4 * (1 - 0.999)'), ['job:slo:ratio_rate5m']);
  t.same(metricNames('histogram_quantile(0.5, sum(rate(d[$__rate_interval])) by (le))'), ['d']);
  t.same(metricNames('label_values(model_info{job=~"$job"}, model_name)'), ['model_info']);
  t.same(metricNames('label_values(job)'), []);
  t.same(metricNames('absent(e{job="batch_inference"})'), ['e']);
});

t.test('every metric the rules and the dashboard query is one we export', async (t) => {
  const server = await serverMetricNames();
  const batch = batchMetricNames();
  const known = new Set([...server, ...batch, ...BUILT_IN_METRICS, ...recorded]);
  for (const name of ['model_queue_duration_seconds_bucket', 'model_batch_size_rows_bucket', 'model_info'])
    t.ok(server.has(name), `the server exports ${name}`);

  const queries = [
    ...rules.map((r) => ({ where: `rules.yml ${r.record ?? r.alert ?? ''}`, query: r.expr })),
    ...dashboardQueries(dashboard).map((q) => ({ ...q, where: `batch-infer.json ${q.where}` })),
  ];
  t.ok(queries.length > 60, `${queries.length} queries`);
  const used = new Set<string>();
  for (const { where, query } of queries) {
    const names = metricNames(query);
    t.ok(names.length > 0, `${where} selects a metric`);
    for (const name of names) {
      used.add(name);
      if (!known.has(name)) t.fail(`${where}: ${name} is not exported`, { query });
    }
  }
  // The dashboard shows every metric family we export (beyond prom-client's process and Node.js defaults).
  const dashboardUsed = new Set(dashboardQueries(dashboard).flatMap((q) => metricNames(q.query)));
  const families = [...server, ...batch].filter((n) => !/^(process|nodejs)_/.test(n));
  const shown = (family: string) =>
    [family, `${family}_bucket`, `${family}_count`, `${family}_sum`].some((n) => dashboardUsed.has(n));
  for (const family of families.filter(
    (n) => !/_(bucket|sum|count)$/.test(n) || !families.includes(n.replace(/_(bucket|sum|count)$/, '')),
  ))
    t.ok(shown(family), `the dashboard shows ${family}`);
  // Rules only: the batch metrics alerted on.
  for (const name of [
    'batch_inference_last_success_timestamp_seconds',
    'batch_inference_rows_processed',
    'batch_inference_rows_per_second',
    'batch_inference_drifted_features_ratio',
    'batch_inference_feature_missing_ratio',
    'batch_inference_feature_out_of_range_ratio',
  ])
    t.ok(used.has(name), `a rule or panel uses ${name}`);
});

t.test('a query naming a metric nobody exports is caught', async (t) => {
  const known = new Set([
    ...(await serverMetricNames()),
    ...batchMetricNames(),
    ...BUILT_IN_METRICS,
    ...recorded,
  ]);
  const typo = 'rate(http_server_request_duration_second_count[5m]) / batch_inference_rows_processed_total';
  t.same(
    metricNames(typo).filter((n) => !known.has(n)),
    ['batch_inference_rows_processed_total', 'http_server_request_duration_second_count'],
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Rules structure

t.test('alerts carry for, a severity, and summary/description annotations', async (t) => {
  t.ok(alerts.length >= 16, `${alerts.length} alerts`);
  for (const alert of alerts) {
    const name = String(alert.alert);
    t.match(alert.for ?? '', /^\d+[smhd]$/, `${name}: for`);
    t.ok(['page', 'ticket'].includes(alert.labels?.severity ?? ''), `${name}: severity page or ticket`);
    t.ok((alert.annotations?.summary ?? '').length > 10, `${name}: summary`);
    t.match(alert.annotations?.description ?? '', /Runbook:/, `${name}: description with a runbook hint`);
  }
  const names = new Set(alerts.map((a) => a.alert));
  for (const name of [
    'ModelServerErrorBudgetBurn',
    'ModelServerHighErrorRatio',
    'ModelServerHighLatencyP99',
    'ModelInferenceLatencyRegression',
    'ModelServerDown',
    'BatchInferenceNotSucceededRecently',
    'BatchInferenceNeverReported',
    'BatchInferenceRowFailureRatioHigh',
    'BatchInferenceThroughputDrop',
    'BatchInferenceDataDrift',
    'BatchInferenceFeatureMissingValues',
    'BatchInferenceFeatureOutOfRange',
  ])
    t.ok(names.has(name), name);
  for (const window of ['5m', '30m', '1h', '6h'])
    t.ok(
      recorded.includes(`job:slo_errors_per_request:ratio_rate${window}`),
      `SLO error ratio over ${window}`,
    );
});

// ---------------------------------------------------------------------------------------------------------------
// Grafana

t.test('the Grafana dashboard is well formed', async (t) => {
  t.ok(typeof dashboard.schemaVersion === 'number' && dashboard.schemaVersion >= 36, 'schemaVersion >= 36');
  t.equal(dashboard.uid, 'batch-infer');
  t.ok(str(dashboard.title).length > 0, 'title');

  const variables = objs(isObj(dashboard.templating) ? dashboard.templating.list : []);
  const variableNames = new Set(variables.map((v) => str(v.name)));
  const datasourceVar = variables.find((v) => v.name === 'datasource');
  t.equal(datasourceVar?.type, 'datasource');
  t.equal(datasourceVar?.query, 'prometheus');

  const panels = allPanels(dashboard);
  const ids = panels.map((p) => p.id);
  t.ok(
    ids.every((id) => Number.isInteger(id)),
    'every panel has an integer id',
  );
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');

  const boxes: { id: string; x: number; y: number; w: number; h: number }[] = [];
  for (const panel of panels) {
    const id = `panel ${JSON.stringify(panel.id)} ${str(panel.title)}`;
    t.ok(str(panel.title).length > 0, `${id}: title`);
    const g = isObj(panel.gridPos) ? panel.gridPos : {};
    const [x, y, w, h] = [g.x, g.y, g.w, g.h].map((v) => (typeof v === 'number' ? v : NaN)) as [
      number,
      number,
      number,
      number,
    ];
    t.ok(
      [x, y, w, h].every((v) => Number.isInteger(v)) && x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24,
      `${id}: gridPos ${JSON.stringify(g)} inside the 24-column grid`,
    );
    boxes.push({ id, x, y, w, h });
    if (panel.type === 'row') continue;
    const ds = isObj(panel.datasource) ? panel.datasource : {};
    t.equal(ds.type, 'prometheus', `${id}: Prometheus datasource`);
    t.equal(ds.uid, '${datasource}', `${id}: datasource from the variable`);
    const targets = objs(panel.targets);
    t.ok(targets.length > 0, `${id}: targets`);
    t.equal(new Set(targets.map((q) => q.refId)).size, targets.length, `${id}: unique refIds`);
    for (const target of targets) {
      t.ok(str(target.expr).trim().length > 0, `${id} ${str(target.refId)}: expr`);
      t.same(target.datasource, panel.datasource, `${id} ${str(target.refId)}: datasource`);
      for (const m of str(target.expr).matchAll(/\$\{?(\w+)\}?/g)) {
        const v = m[1] ?? '';
        t.ok(v.startsWith('__') || variableNames.has(v), `${id}: $${v} is a dashboard variable`);
      }
    }
  }
  const overlaps = boxes.flatMap((a, i) =>
    boxes
      .slice(i + 1)
      .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
      .map((b) => `${a.id} / ${b.id}`),
  );
  t.same(overlaps, [], 'no panels overlap');
});

t.test('the dashboard has server, batch and data rows with the panels they promise', async (t) => {
  const top = objs(dashboard.panels);
  const sections = new Map<string, string[]>();
  let current = '';
  for (const panel of top) {
    if (panel.type === 'row') {
      current = str(panel.title);
      sections.set(
        current,
        objs(panel.panels).map((p) => str(p.title)),
      );
    } else sections.get(current)?.push(str(panel.title));
  }
  const section = (re: RegExp) => [...sections.entries()].find(([title]) => re.test(title))?.[1] ?? [];
  const expect: [RegExp, RegExp[]][] = [
    [
      /server/i,
      [
        /request rate/i,
        /error ratio/i,
        /p50.*p99/i,
        /inference time/i,
        /queue time/i,
        /batch size/i,
        /in-flight/i,
      ],
    ],
    [/batch/i, [/since last success/i, /rows by outcome/i, /rows\/s/i, /stage durations/i, /retries/i]],
    [/data/i, [/drift \(PSI\)/i, /drifted features/i, /prediction drift/i, /missing/i, /out-of-range/i]],
  ];
  for (const [row, wanted] of expect) {
    const titles = section(row);
    t.ok(titles.length > 0, `a ${String(row)} row`);
    for (const re of wanted)
      t.ok(
        titles.some((title) => re.test(title)),
        `${String(row)} row: ${String(re)}`,
      );
  }
});

t.test('Grafana provisioning files', async (t) => {
  const datasources = await yamlFile(join(GRAFANA_DIR, 'provisioning', 'datasources', 'prometheus.yml'));
  t.equal(datasources.apiVersion, 1);
  const ds = objs(datasources.datasources)[0];
  t.equal(ds?.type, 'prometheus');
  const variable = objs(isObj(dashboard.templating) ? dashboard.templating.list : []).find(
    (v) => v.name === 'datasource',
  );
  t.equal(
    ds?.uid,
    isObj(variable?.current) ? variable.current.value : undefined,
    "the dashboard's default datasource is the provisioned one",
  );
  t.match(str(ds?.url), /^http:\/\/127\.0\.0\.1:9090$/);

  const dashboards = await yamlFile(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'batch-infer.yml'));
  t.equal(dashboards.apiVersion, 1);
  const provider = objs(dashboards.providers)[0];
  t.equal(provider?.type, 'file');
  t.match(str(isObj(provider?.options) ? provider.options.path : null), /^\/.+/);
});
