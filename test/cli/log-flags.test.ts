import t from 'tap';
import { PassThrough } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandHelp, parseCommandArgs } from '../../bin/cli/command.js';
import { createLogger, logSettings } from '../../bin/cli/log-flags.js';
import { mainHelp } from '../../bin/cli/main.js';
import { runCommand } from '../../bin/cli/run.js';
import { formatRunSummary } from '../../bin/cli/run-summary.js';
import { formatServeBanner } from '../../bin/cli/serve-banner.js';
import { colorEnabled, styles } from '../../bin/cli/terminal.js';
import type { RunSummary } from '../../lib/pipeline.js';
import { tempDir } from '../helpers.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseCommandArgs(runCommand, args, env);
const pipe = new PassThrough();
/** A stream that says it is a terminal with colours, as a tty.WriteStream does. */
const terminal = Object.assign(new PassThrough(), { isTTY: true, hasColors: () => true });

t.test(
  'every command takes --log-format, --log-level, --quiet and --verbose; --help lists them',
  async (t) => {
    const help = commandHelp(runCommand);
    t.match(help, /--log-format <pretty\|json>.*\(default: pretty when stderr is a terminal, else json\)/);
    t.match(help, /env: BATCH_INFER_LOG_FORMAT/);
    t.match(help, /--log-level <level>/);
    t.match(help, /-q, --quiet/);
    t.match(help, /--verbose/);
    t.match(help, /--json +Also print the run summary as JSON on stdout/);
    t.same(parse(['-q', '-i', 'a.csv']).quiet, true);
    t.match(
      mainHelp(),
      /Every command also takes --log-format pretty\|json .*\n-q\/--quiet, --verbose, --log-level <level>/,
    );
  },
);

t.test('the log format: pretty on a terminal, JSON elsewhere, unless chosen', async (t) => {
  t.equal(logSettings({}, terminal, {}).format, 'pretty');
  t.equal(logSettings({}, pipe, {}).format, 'json');
  t.equal(logSettings(parse(['--log-format', 'json']), terminal, {}).format, 'json');
  t.equal(logSettings(parse([], { BATCH_INFER_LOG_FORMAT: 'pretty' }), pipe, {}).format, 'pretty');
  t.throws(() => logSettings(parse(['--log-format', 'xml']), pipe, {}), {
    message: '--log-format must be one of pretty, json, got "xml"',
  });
});

t.test('the level: --quiet, --verbose or --log-level, one of them', async (t) => {
  t.equal(logSettings({}, pipe, {}).level, 'info');
  t.equal(logSettings(parse(['--quiet']), pipe, {}).level, 'warn');
  t.equal(logSettings(parse(['--verbose']), pipe, {}).level, 'debug');
  t.equal(logSettings(parse(['--log-level', 'error']), pipe, {}).level, 'error');
  t.equal(logSettings(parse([], { BATCH_INFER_LOG_LEVEL: 'trace' }), pipe, {}).level, 'trace');
  t.throws(() => logSettings(parse(['--quiet', '--verbose']), pipe, {}), {
    message: '--quiet and --verbose both choose the log level: give one',
  });
  t.throws(() => logSettings(parse(['--log-level', 'loud']), pipe, {}), { message: /--log-level must be/ });
});

t.test(
  'a level chosen on the command line is not undone by the environment or the config file',
  async (t) => {
    const dir = await tempDir(t);
    const config = join(dir, 'run.json');
    await writeFile(config, JSON.stringify({ verbose: true, 'log-format': 'json' }));
    const env = { BATCH_INFER_LOG_LEVEL: 'debug' };
    t.equal(logSettings(parse(['--quiet'], env), pipe, {}).level, 'warn', 'the flag beats the environment');
    t.equal(logSettings(parse([], env), pipe, {}).level, 'debug', 'the environment alone');
    t.equal(
      logSettings(parse(['--config', config], env), pipe, {}).level,
      'debug',
      'the environment beats the config file',
    );
    const fromConfig = logSettings(parse(['--config', config]), terminal, {});
    t.same(
      [fromConfig.level, fromConfig.format],
      ['debug', 'json'],
      'the config file may set the shared flags',
    );
    t.equal(logSettings(parse([], { BATCH_INFER_QUIET: '0' }), pipe, {}).level, 'info');
  },
);

t.test('colour: NO_COLOR and FORCE_COLOR, else what the terminal supports', async (t) => {
  t.equal(colorEnabled(terminal, {}), true);
  t.equal(colorEnabled(pipe, {}), false);
  t.equal(colorEnabled(terminal, { NO_COLOR: '1' }), false);
  t.equal(colorEnabled(terminal, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
  t.equal(colorEnabled(pipe, { FORCE_COLOR: '1' }), true);
  t.equal(colorEnabled(terminal, { FORCE_COLOR: '0' }), false);
  t.equal(colorEnabled(terminal, { FORCE_COLOR: '1', NO_COLOR: '1' }), true, 'FORCE_COLOR wins, as in Node');
  t.equal(logSettings({}, terminal, { NO_COLOR: '1' }).color, false);
  t.equal(styles(false).red('x'), 'x');
  t.equal(styles(true).red('x'), '\x1b[31mx\x1b[39m');
});

t.test(
  'pretty lines: time, level, message, the fields that matter; the stack only when verbose',
  async (t) => {
    const lines = async (level: 'info' | 'debug', log: (l: import('pino').Logger) => void) => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (d: Buffer) => (text += d.toString()));
      log(await createLogger({ format: 'pretty', level, color: false }, out));
      return text;
    };
    const text = await lines('info', (l) => {
      l.info({ trace_id: 'abc', model: 'weather' }, 'model loaded');
      l.error({ err: new Error('no such file'), model: 'x' }, 'model failed to load');
      l.debug('hidden');
    });
    t.match(text, /^\[\d\d:\d\d:\d\d\] INFO: model loaded model=weather\n/);
    t.match(text, /\] ERROR: model failed to load: no such file model=x\n$/);
    t.notMatch(text, /trace_id|abc|hidden|at .*\.ts/);
    const verbose = await lines('debug', (l) => l.error({ err: new Error('boom') }, 'failed'));
    t.match(verbose, /ERROR: failed: boom\n\s+err: \{[\s\S]*"stack":\s+Error: boom\n\s+at /);
  },
);

function runSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    status: 'succeeded',
    model: { name: 'weather', version: 1 },
    protocol: 'local',
    inputs: ['ny.csv'],
    rows: { read: 365, scored: 361, rejected: 4 },
    timings: { started_at: '2026-01-01T00:00:00.000Z', duration_ms: 1234 },
    throughput_rows_per_s: 296,
    output: 'scored.csv',
    rejects: 'scored.rejects.csv',
    summary: 'scored.summary.json',
    shadow: null,
    config_fingerprint: 'f',
    trace_id: 't',
    requests: {} as RunSummary['requests'],
    drift: null,
    quality: null,
    alerts: [],
    metrics: 'scored.metrics.prom',
    ...overrides,
  };
}

const feature = (name: string, score: number, drifted: boolean) =>
  ({ feature: name, score, drifted }) as NonNullable<RunSummary['drift']>['features'][number];

t.test('the run summary a terminal shows', async (t) => {
  const plain = styles(false);
  t.equal(
    formatRunSummary(runSummary(), plain),
    [
      'batch-infer run: scored ny.csv with weather v1 (in process)',
      '  rows       365 read · 361 scored · 4 rejected → scored.rejects.csv',
      '  speed      296 rows/s (1.2 s)',
      '  drift      not checked (the model has no reference profile; see batch-infer profile)',
      '  output     scored.csv',
      '  summary    scored.summary.json',
      '  metrics    scored.metrics.prom',
      '',
    ].join('\n'),
  );
  const drifted = formatRunSummary(
    runSummary({
      drift: {
        rows: 365,
        low_sample: true,
        dataset_drift: true,
        drifted_features_ratio: 0.5,
        features: [
          feature('precipitation', 0.11, true),
          feature('wind', 1.0, true),
          feature('temp_max', 0.05, false),
          feature('temp_min', 0.02, false),
        ],
        prediction: {
          method: 'psi',
          score: 0.28,
          threshold: 0.25,
          level: 'drift',
          current: {},
          reference: {},
        },
      },
      alerts: [
        {
          alert: 'BatchInferenceDataDrift',
          severity: 'warning',
          value: 0.5,
          threshold: 0.5,
          message: 'wind drifted',
        },
        {
          alert: 'BatchInferenceRejectRatio',
          severity: 'ticket',
          value: 0.01,
          threshold: 0.01,
          message: '1.1 %',
        },
      ],
      protocol: 'v2-binary',
      inputs: ['a.csv', 'b.csv', 'c.csv'],
      output: '<stdout>',
      rejects: null,
      summary: null,
      metrics: null,
      shadow: { version: 2, rate: 0.034 } as RunSummary['shadow'],
    }),
    plain,
  );
  t.match(drifted, 'scored a.csv and 2 more files with weather v1 (over v2-binary)');
  t.match(drifted, '4 rejected (counted only: --rejects <file> keeps them)');
  t.match(drifted, '  challenger v2 disagrees on 3.4 % of the rows');
  t.match(
    drifted,
    '  drift      2 of 4 features drifted: wind, precipitation; the predictions too (low sample: 365 rows)\n',
  );
  t.match(
    drifted,
    '  alerts     BatchInferenceDataDrift: wind drifted\n             BatchInferenceRejectRatio: 1.1 %\n',
  );
  t.match(drifted, '  output     stdout\n');
  t.notMatch(drifted, /summary |metrics /);
  t.match(formatRunSummary(runSummary(), styles(true)), '\x1b[33m4 rejected → scored.rejects.csv\x1b[39m');
});

t.test('the serve banner', async (t) => {
  const banner = formatServeBanner(
    {
      url: 'http://0.0.0.0:8080',
      grpc: '0.0.0.0:8081',
      models: [
        { name: 'titanic', versions: ['1'], defaultVersion: '1' },
        { name: 'weather', versions: ['1', '2'], defaultVersion: '2' },
      ],
      defaultModel: 'titanic',
      routes: [
        { method: 'GET', path: '/metrics' },
        { method: 'GET', path: '/v2/health/ready' },
        { method: 'GET', path: '/v2/models/:model' },
        { method: 'POST', path: '/v2/models/:model/infer' },
        { method: 'POST', path: '/v2/models/:model/versions/:version/infer' },
        { method: 'POST', path: '/v2/repository/index' },
        { method: 'GET', path: '/ping' },
        { method: 'POST', path: '/invocations' },
        { method: 'GET', path: '/health' },
        { method: 'POST', path: '/predict' },
      ],
      inferenceToken: true,
      adminToken: false,
      graceMs: 10_000,
    },
    styles(false),
  );
  t.equal(
    banner,
    [
      'batch-infer serve: listening on http://0.0.0.0:8080',
      '  models   titanic v1 · weather v1, v2 (v2 by default)',
      '  infer    POST /v2/models/{model}[/versions/{version}]/infer  Open Inference Protocol V2',
      '           POST /invocations, GET /ping                        SageMaker → titanic',
      '           POST /predict, GET /health                          Vertex AI → titanic',
      '  grpc     0.0.0.0:8081  inference.GRPCInferenceService (Open Inference Protocol)',
      '  health   GET /v2/health/ready',
      '  metrics  GET /metrics',
      '  admin    POST /v2/repository/…  refused: no --admin-token',
      '  token    all but the health routes want Authorization: Bearer <the inference token>',
      '  stop     Ctrl-C (requests in flight get up to 10s to finish)',
      '',
    ].join('\n'),
  );
});
