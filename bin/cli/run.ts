/**
 * `batch-infer run`: score CSV, JSON Lines or Parquet files, S3 objects, URLs or a PostgreSQL query against a
 * model server, or in process without `--url`; write CSV or Parquet files or objects, or a PostgreSQL table.
 */
import { createPipeline } from '../../lib/pipeline.js';
import {
  IF_EXISTS,
  INPUT_FORMATS,
  OUTPUT_FORMATS,
  PROTOCOLS,
  type InputFormat,
  type OutputFormat,
  type Protocol,
} from '../../lib/pipeline-options.js';

type IfExists = (typeof IF_EXISTS)[number];
import { EXIT_OK } from './exit-codes.js';
import { choice, duration, int, list, names, str, usageError, type Command } from './command.js';
import { MODEL_FLAGS } from './model-flags.js';
import { progressSink } from './progress.js';
import { formatRunSummary } from './run-summary.js';
import { stylesFor } from './terminal.js';
import type { Alert } from '../../lib/core/trends.js';
import { parseShard, type Shard } from '../../lib/core/shard.js';
import { newTraceId, parseTraceparent } from '../../lib/core/trace-context.js';

/**
 * `--shard i/N`, else the index and count an orchestrator sets: a Kubernetes Indexed Job sets only
 * JOB_COMPLETION_INDEX (the count is the Job's `completions`, passed as BATCH_INFER_SHARD_COUNT or
 * JOB_COMPLETION_COUNT); Cloud Run jobs set CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT.
 */
function shardOf(flag: string | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  const count = env.BATCH_INFER_SHARD_COUNT ?? env.JOB_COMPLETION_COUNT;
  const text =
    flag ??
    (env.JOB_COMPLETION_INDEX !== undefined && count !== undefined
      ? `${env.JOB_COMPLETION_INDEX}/${count}`
      : env.CLOUD_RUN_TASK_INDEX !== undefined && env.CLOUD_RUN_TASK_COUNT !== undefined
        ? `${env.CLOUD_RUN_TASK_INDEX}/${env.CLOUD_RUN_TASK_COUNT}`
        : undefined);
  if (text === undefined) return undefined;
  const shard = parseShard(text);
  if (shard === undefined)
    throw usageError(`--shard must be i/N with 0 ≤ i < N (from the flag or the environment), got "${text}"`);
  return shard;
}

export const runCommand: Command = {
  name: 'run',
  summary:
    'Score CSV, JSON Lines or Parquet files, objects or a PostgreSQL query with a model: over HTTP or gRPC against a model server (--url), or in process without one.',
  options: {
    input: {
      type: 'string',
      short: 'i',
      multiple: true,
      value: '<file|pattern|-|s3://…|https://…|postgres://…>',
      description:
        'Input: CSV with a header row, JSON Lines, or Parquet; a file, - for stdin, an s3:// object or an https:// URL; or a postgres:// database with --query or --input-table. Repeat it, or use * and ? in the file name, to read several files as one input.',
    },
    'input-format': {
      type: 'string',
      value: `<${INPUT_FORMATS.join('|')}>`,
      description: 'Input format of files, objects and URLs.',
      default: 'parquet for .parquet, jsonl for .jsonl/.ndjson, else csv',
    },
    query: {
      type: 'string',
      value: '<sql>',
      description:
        'A postgres:// input: the query whose rows are scored (read through a server-side cursor).',
    },
    'input-table': {
      type: 'string',
      value: '<table>',
      description: 'A postgres:// input: the table (or view) to score whole.',
    },
    output: {
      type: 'string',
      short: 'o',
      value: '<file|-|s3://…|postgres://…>',
      description:
        'Output: a CSV or Parquet file (- writes CSV to stdout), an s3:// object, or a postgres:// database with --output-table. Nothing appears unless the run succeeds.',
    },
    'output-format': {
      type: 'string',
      value: `<${OUTPUT_FORMATS.join('|')}>`,
      description: 'Output format of files and objects.',
      default: 'parquet for .parquet, else csv',
    },
    'output-table': {
      type: 'string',
      value: '<table>',
      description:
        'A postgres:// output: the table the rows go to, with COPY in one transaction committed only when the run succeeds; created with typed columns when missing.',
    },
    'if-exists': {
      type: 'string',
      value: '<fail|append|replace>',
      description: 'When the output table exists: fail, append (its columns must fit), or replace it.',
      default: 'fail',
    },
    columns: {
      type: 'string',
      value: '<a,b,…>',
      description: 'Input columns to keep in the output, in this order.',
      default: 'all',
    },
    features: {
      type: 'string',
      value: '<a,b,…>',
      description:
        "The K columns, in order, that feed a model's one [N, K] input when its model.json has no feature spec.",
      default: 'the feature spec, or the column named after each input',
    },
    outputs: {
      type: 'string',
      value: '<a,b,…>',
      description: 'Output tensors to ask for and write, in this order.',
      default: 'all',
    },
    ...MODEL_FLAGS,
    'shadow-version': {
      type: 'string',
      value: '<n>',
      description:
        'Champion/challenger run: also score every batch with this version of the model. The output gets challenger_prediction and challenger_probability_<label> columns, the summary the disagreement rate per class.',
      default: 'none',
    },
    protocol: {
      type: 'string',
      value: `<${PROTOCOLS.join('|')}>`,
      description: 'How batches reach the model.',
      default:
        'with --url, v2-binary if the server lists binary_tensor_data, else v2-json (v2-grpc with --grpc-url); local without',
    },
    'grpc-url': {
      type: 'string',
      value: '<grpc://host:port>',
      description:
        "The server's Open Inference Protocol gRPC address, for --protocol v2-grpc (grpcs:// for TLS); the model's contract still comes from --url.",
      default: "--url's host, port 8081",
    },
    'predict-route': {
      type: 'string',
      value: '<path>',
      description: 'Predict route of the vertex protocol.',
      default: '/predict',
    },
    'batch-size': {
      type: 'string',
      value: '<n>',
      description: 'Rows per request.',
      default: '4096; 1024 for vertex and sagemaker',
    },
    concurrency: {
      type: 'string',
      value: '<n>',
      description: 'Requests in flight at most (batches being scored, in process).',
      default: '2; 1 in process',
    },
    timeout: {
      type: 'string',
      value: '<duration>',
      description: 'Per-request timeout: 250ms, 2s, 1m; a bare number is ms.',
      default: '30s',
    },
    retries: {
      type: 'string',
      value: '<n>',
      description:
        'Retries of a request after a network error, timeout, 408, 429 or 5xx (exponential backoff, full jitter, Retry-After honoured).',
      default: '3',
    },
    rejects: {
      type: 'string',
      value: '<file>',
      description: 'Rejected rows CSV (original columns, line, error).',
      default:
        '<output without .csv/.parquet>.rejects.csv; <table or object name>.rejects.csv in the working directory',
    },
    summary: {
      type: 'string',
      value: '<file>',
      description: 'Run summary JSON (counts, timings, config fingerprint, model).',
      default:
        '<output without .csv/.parquet>.summary.json; <table or object name>.summary.json in the working directory',
    },
    'max-reject-ratio': {
      type: 'string',
      value: '<0..1>',
      description: 'Fail (exit 65) when more rows than this share are rejected.',
      default: '1',
    },
    shard: {
      type: 'string',
      value: '<i/N>',
      description:
        'Score shard i of N (0-based): whole files when there are several, else a range of rows. --output is then a directory that gets part-0000i-of-0000N.csv.',
      default:
        'JOB_COMPLETION_INDEX/BATCH_INFER_SHARD_COUNT, CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT, else all',
    },
    'shard-by': {
      type: 'string',
      value: '<column>',
      description:
        'A sharded postgres:// input: shard i takes the rows whose column hashes to i; shards writing one table each commit their own rows.',
    },
    resume: {
      type: 'boolean',
      description:
        'Keep a journal (<output>.journal) so that the same command, run again after a crash, continues where it stopped; the output is byte-identical to an uninterrupted run.',
      default: 'off',
    },
    'metrics-file': {
      type: 'string',
      value: '<file>',
      description:
        'Batch metrics in the Prometheus text format, written after every run, successful or not (docs/monitoring.md).',
      default:
        '<output without .csv/.parquet>.metrics.prom; <table or object name>.metrics.prom in the working directory',
    },
    pushgateway: {
      type: 'string',
      value: '<url>',
      env: ['PUSHGATEWAY_URL'],
      description:
        'Also push the metrics to this Pushgateway (job batch_inference, grouped by --pipeline-name); a failed push only warns.',
      default: 'none',
    },
    'pipeline-name': {
      type: 'string',
      value: '<name>',
      description:
        "Stable name of this pipeline: the Pushgateway grouping key and the history records' pipeline. Never a run id.",
      default: 'the model name',
    },
    history: {
      type: 'string',
      value: '<file>',
      description:
        "Run history (JSON Lines): append this run's record, and warn of the offline alert rules it fires against the earlier runs.",
      default: 'none',
    },
    json: {
      type: 'boolean',
      description:
        'Also print the run summary as JSON on stdout, for scripts (the output must then be a file).',
    },
    'progress-interval': {
      type: 'string',
      value: '<duration>',
      description:
        'How often progress is logged when stderr is not a terminal, or with --log-format json (a terminal gets a live line).',
      default: '10s',
    },
  },
  examples: [
    'batch-infer run --input data.csv --output scored.csv',
    'batch-infer run -i data.csv -o scored.csv --url http://127.0.0.1:8080 --model weather --concurrency 8',
    "batch-infer run -i 'days/2024-*.jsonl' -o scored.csv --columns id,date",
    'cat data.csv | batch-infer run --input - --output - > scored.csv',
    'batch-infer run -i big.csv -o scored.csv --resume   # run it again after a crash to continue',
    'batch-infer run -i data.csv -o out/scored.csv --history runs.jsonl --pushgateway http://127.0.0.1:9091',
    'batch-infer run -i data.csv -o both.csv --url http://127.0.0.1:8080 --model-version 1 --shadow-version 2',
    "TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 batch-infer run -i data.csv -o scored.csv --url http://127.0.0.1:8080   # the run joins the caller's trace",
  ],
  async run(values, io) {
    const inputs = list(values, 'input');
    const output = str(values, 'output');
    if (inputs.length === 0) throw usageError('--input is required (a file, or - for stdin)');
    if (output === undefined) throw usageError('--output is required (a file, or - for stdout)');
    if (inputs.length > 1 && inputs.some((i) => /^postgres(ql)?:\/\//i.test(i)))
      throw usageError('--input postgres://… reads one query: it cannot be combined with other inputs');
    if (inputs.length > 1 && inputs.includes('-'))
      throw usageError('--input - (stdin) cannot be combined with files');
    if (values.json === true && output === '-')
      throw usageError('--json prints the summary on stdout, which --output - uses for the scored rows');
    const protocol = choice<Protocol>('protocol', str(values, 'protocol'), PROTOCOLS);
    const inputFormat = choice<InputFormat>('input-format', str(values, 'input-format'), INPUT_FORMATS);
    const timeout = duration(values, 'timeout');
    const ratioText = str(values, 'max-reject-ratio');
    const ratio = ratioText === undefined ? undefined : Number(ratioText);
    if (ratio !== undefined && !(ratio >= 0 && ratio <= 1))
      throw usageError(`--max-reject-ratio must be a number from 0 to 1, got "${ratioText}"`);
    const columns = names(values, 'columns');
    const progress = progressSink(
      io.stderr,
      io.logger,
      duration(values, 'progress-interval') ?? 10_000,
      io.pretty === true,
    );
    const optional = {
      inputFormat,
      query: str(values, 'query'),
      inputTable: str(values, 'input-table'),
      outputFormat: choice<OutputFormat>('output-format', str(values, 'output-format'), OUTPUT_FORMATS),
      outputTable: str(values, 'output-table'),
      ifExists: choice<IfExists>('if-exists', str(values, 'if-exists'), IF_EXISTS),
      shardBy: str(values, 'shard-by'),
      columns,
      features: names(values, 'features'),
      outputs: names(values, 'outputs'),
      url: str(values, 'url'),
      grpcUrl: str(values, 'grpc-url'),
      model: str(values, 'model'),
      modelVersion: int(values, 'model-version', 1),
      shadowVersion: int(values, 'shadow-version', 1),
      models: str(values, 'models'),
      protocol,
      predictRoute: str(values, 'predict-route'),
      batchSize: int(values, 'batch-size', 1),
      concurrency: int(values, 'concurrency', 1),
      timeout: timeout === 0 ? undefined : timeout,
      retries: int(values, 'retries', 0),
      rejects: str(values, 'rejects'),
      summary: str(values, 'summary'),
      maxRejectRatio: ratio,
      resume: values.resume === true ? true : undefined,
      shard: shardOf(str(values, 'shard'), io.env),
      metricsFile: str(values, 'metrics-file'),
      pushgateway: str(values, 'pushgateway'),
      pipelineName: str(values, 'pipeline-name'),
      history: str(values, 'history'),
    };
    // A job started inside a trace (TRACEPARENT, the OpenTelemetry environment carrier) runs in that trace.
    const traceId = parseTraceparent(io.env.TRACEPARENT)?.traceId ?? newTraceId();
    io.logger.info({ trace_id: traceId }, 'run started');
    // For people, a successful run's alerts are lines of its summary (below); a failed run logs them.
    const logAlert = (alert: Alert): void =>
      io.logger.warn({ alert }, `alert ${alert.alert}: ${alert.message}`);
    const held: Alert[] = [];
    const summary = await createPipeline({
      input: inputs.length === 1 ? (inputs[0] as string) : inputs,
      traceId,
      onRetry: (event) =>
        io.logger.warn(
          {
            trace_id: event.traceId,
            span_id: event.spanId,
            attempt: event.attempt,
            delay_ms: Math.round(event.delayMs),
          },
          `retrying in ${Math.round(event.delayMs)} ms: ${event.reason}`,
        ),
      output,
      signal: io.signal,
      onProgress: (p) => progress.report(p),
      progressInterval: Math.max(progress.interval, 1),
      onAlert: (alert) => (io.pretty === true ? held.push(alert) : logAlert(alert)),
      onPushError: (err) =>
        io.logger.warn({ err }, `could not push metrics to the Pushgateway: ${(err as Error).message}`),
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    }).catch((err: unknown) => {
      held.forEach(logAlert);
      throw err;
    });
    if (io.pretty !== true) {
      const shadow =
        summary.shadow === null
          ? ''
          : `; challenger v${summary.shadow.version} disagrees on ${(100 * summary.shadow.rate).toFixed(1)} %`;
      io.logger.info(
        { summary },
        `scored ${summary.rows.scored} rows, rejected ${summary.rows.rejected}${shadow}`,
      );
    } else if (io.logger.isLevelEnabled('info')) {
      io.stderr.write(formatRunSummary(summary, stylesFor(io.stderr, io.env)));
    } else {
      summary.alerts.forEach(logAlert);
    }
    if (values.json === true) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return EXIT_OK;
  },
};
