/** Options of `createPipeline`, normalized once into a frozen object (STYLE.md §2). */
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BatchInferError, ErrorCodes, show } from './errors.js';
import {
  choiceOption,
  integerOption,
  numberOption,
  refuseUnknownKeys,
  signalOption,
  stringOption,
} from './core/options.js';
import { DEFAULT_RETRY_POLICY } from './core/retry.js';
import { newTraceId, traceIdOption } from './core/trace-context.js';
import type { RetryEvent } from './adapters/http-scorer.js';
import { HTTP_PROTOCOLS } from './adapters/protocols.js';
import type { Progress } from './core/progress.js';
import type { Alert } from './core/trends.js';
import { partName, type Shard } from './core/shard.js';
import { isRecordSink, isRecordSource, type RecordSink, type RecordSource } from './io/table.js';
import { DATA_FORMATS, formatOfTarget, locationKind, sideFileBase, type DataFormat } from './io/locations.js';
import { DEFAULT_BATCH_SIZE } from './streams/batcher.js';
import { DEFAULT_CONCURRENCY } from './streams/model-scorer.js';
import { BUNDLED_MODELS_DIR } from './model-files.js';

export const PROTOCOLS = [...HTTP_PROTOCOLS, 'v2-grpc', 'local'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Batches in flight by default for `local` (see `concurrency`). */
const LOCAL_CONCURRENCY = 1;

/**
 * Rows per request by default for `vertex` and `sagemaker`: their answers are a JSON array per row, and with
 * 4096 rows a 1M-row run peaked at 141 – 144 MiB (120 with 1024), at the 150 MB budget (benchmarks/README.md).
 */
const JSON_INSTANCES_BATCH_SIZE = 1024;

export const INPUT_FORMATS = DATA_FORMATS;
export type InputFormat = DataFormat;
export const OUTPUT_FORMATS = ['csv', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const IF_EXISTS = ['fail', 'append', 'replace'] as const;

export interface PipelineOptions {
  /**
   * Input: a file path, several (read one after the other, as one input: their headers must agree), a pattern
   * with `*` or `?` in its file name (matching files of one directory, in name order), `-` for stdin, an
   * `s3://bucket/key` object or an `https://` URL, a `postgres://` database (with `query` or `inputTable`), or
   * a Readable of bytes, or a {@link RecordSource} of your own (docs/adapters.md). Required.
   * @example ["part-1.csv", "part-2.csv"]
   * @example "data/2024-*.jsonl"
   * @example "s3://features/2024-05-01.parquet"
   */
  input: string | readonly string[] | Readable | RecordSource;
  /**
   * Input format of files, objects and URLs: CSV with a header row, JSON Lines (one object per line; the first
   * object's keys are the columns) or Parquet.
   * @default "parquet" for `.parquet` files, "jsonl" for `.jsonl` and `.ndjson`, else "csv"
   */
  inputFormat?: InputFormat;
  /** A `postgres://` input's query, e.g. `SELECT * FROM visits WHERE day = '2024-05-01'`. */
  query?: string;
  /** A `postgres://` input's table (or view), read whole: `name` or `schema.name`. */
  inputTable?: string;
  /**
   * Output: a file path (written atomically), `-` for stdout, a Writable, an `s3://bucket/key` object (appears
   * when the run succeeds), a `postgres://` database (with `outputTable`), or a {@link RecordSink} of your
   * own. Required.
   */
  output: string | Writable | RecordSink;
  /**
   * Output format of a file or object: CSV, or Parquet with typed columns.
   * @default "parquet" for a `.parquet` path, else "csv"
   */
  outputFormat?: OutputFormat;
  /** A `postgres://` output's table, created with typed columns when it does not exist. */
  outputTable?: string;
  /**
   * What to do when the output table exists: `fail` (so a rerun never appends twice by accident), `append`
   * (its columns must fit the output's), or `replace` (dropped and created again, in the run's transaction).
   * @default "fail"
   */
  ifExists?: 'fail' | 'append' | 'replace';
  /**
   * Rejects (original columns, `line`, `error`): a CSV path or a Writable, or a table, `postgres://…#table`.
   * @default `<output without .csv>.rejects.csv` beside a file output (`scored.csv` → `scored.rejects.csv`);
   *   none (counted only) for stream outputs
   */
  rejects?: string | Writable;
  /**
   * Run summary JSON (counts, timings, config fingerprint, model), written atomically; `false` for none.
   * @default `<output without .csv>.summary.json` beside a file output (`scored.csv` → `scored.summary.json`);
   *   none for stream outputs
   */
  summary?: string | false;
  /**
   * Input columns to keep in the output, in this order (the rejects keep them all).
   * @default every input column
   * @example ["id", "date"]
   */
  columns?: readonly string[];
  /**
   * The K input columns, in order, that feed a model with one `[N, K]` input and no feature spec of its own
   * (model.json's `features`); without it each input of shape `[N, 1]` or `[N]` reads the column of its name.
   * @default the model's feature spec, or a column per input
   * @example ["sepal_length", "sepal_width", "petal_length", "petal_width"]
   */
  features?: readonly string[];
  /**
   * The output tensors to ask for and write, in order.
   * @default every output of the model
   * @example ["output_probability"]
   */
  outputs?: readonly string[];
  /**
   * Model name.
   * @default "weather"
   */
  model?: string;
  /**
   * Model version.
   * @default the model's default version: its config.json's `default_version`, else the latest (on a server,
   * the version that answers requests naming none)
   */
  modelVersion?: number;
  /**
   * Champion/challenger run: also score every batch with this version of the same model, which must take the
   * same input (feature spec) and give the same labels. The output keeps the champion's columns and adds
   * `challenger_prediction` and `challenger_probability_<label>`; the summary's `shadow` holds how often the two
   * disagree, per label. Over HTTP it needs a V2 protocol (requests name the version); not with `resume`.
   * @default none
   * @example 2
   */
  shadowVersion?: number;
  /**
   * Model server base URL, e.g. `http://127.0.0.1:8080`. Without it the model runs in process.
   * @default undefined
   */
  url?: string;
  /**
   * The model server's gRPC address for the `v2-grpc` protocol: `grpc://host:port`, `grpcs://host:port` (TLS)
   * or `host:port`. The contract still comes from the model metadata at `url` (gRPC's has no room for it). Given
   * without `protocol`, it selects `v2-grpc`.
   * @default `url`'s host on port 8081 (`batch-infer serve`'s default gRPC port); grpcs:// for an https `url`
   * @example "grpc://models.internal:8081"
   */
  grpcUrl?: string;
  /**
   * Model repository for in-process scoring.
   * @default the bundled repository
   */
  models?: string;
  /**
   * How batches reach the model: over HTTP as Open Inference Protocol JSON or binary tensors, Vertex AI or
   * SageMaker requests; over the Open Inference Protocol's gRPC (`v2-grpc`, at `grpcUrl`); or in process.
   * @default with `url`: "v2-binary" when the server's metadata lists the `binary_tensor_data` extension, else
   * "v2-json" ("v2-grpc" when `grpcUrl` is given); without `url`: "local"
   */
  protocol?: Protocol;
  /**
   * Path of the `vertex` protocol's predict route (the container's `AIP_PREDICT_ROUTE`).
   * @default "/predict"
   */
  predictRoute?: string;
  /**
   * Rows per request.
   * @default 4096; 1024 for `vertex` and `sagemaker`
   */
  batchSize?: number;
  /**
   * Requests in flight at most (batches being scored, for `local`).
   * @default 2; 1 for `local`, whose model runs on this process's thread anyway: more batches in flight only
   * hold more rows in memory (measured at 1M rows: 4 took 1.2× the CPU and 1.24× the peak RSS of 1)
   */
  concurrency?: number;
  /**
   * Per-request timeout in milliseconds.
   * @default 30000
   */
  timeout?: number;
  /**
   * Retries of a request after a network error, a timeout, 408, 429 or 5xx, with exponential backoff and full
   * jitter, honouring `Retry-After`.
   * @default 3
   */
  retries?: number;
  /**
   * Fail the run (BI_ERR_TOO_MANY_REJECTS) when rejected / read rows exceeds this ratio.
   * @default 1 (never)
   */
  maxRejectRatio?: number;
  /**
   * Score only shard `index` of `count` (0-based): whole files when the input is several files, else a
   * contiguous range of rows (found by counting the rows first). `output` is then a directory, and the output
   * is `<output>/part-0000i-of-0000N.csv`; the N parts concatenated in order are a single run's rows.
   * @default the whole input
   * @example { index: 2, count: 4 }
   */
  shard?: Shard;
  /**
   * A `postgres://` input's shard key: with `shard`, the shard reads the rows whose `shardBy` column hashes to
   * its index, and writes them (to a table, in its own transaction) or to its part file.
   * @example "customer_id"
   */
  shardBy?: string;
  /**
   * Keep a journal of committed batches (`<output>.journal`, output in `<output>.partial`) so that, after a
   * crash or a failed run, the same run started again continues where it stopped; the final output is
   * byte-identical to an uninterrupted run. A journal from a run with other settings is refused
   * (BI_ERR_JOURNAL_MISMATCH). Needs file input(s) and a file output.
   * @default false
   */
  resume?: boolean;
  /**
   * Called with the run's progress every `progressInterval` ms, and once more when the input is exhausted.
   * @default none
   */
  onProgress?: (progress: Progress) => void;
  /**
   * Milliseconds between progress calls.
   * @default 1000
   */
  progressInterval?: number;
  /** Aborting the signal stops the run; nothing is committed. */
  signal?: AbortSignal;
  /**
   * Batch metrics in the Prometheus text format (docs/monitoring.md), written atomically after every run,
   * successful or not; `false` for none.
   * @default `<output without .csv>.metrics.prom` beside a file output (`scored.csv` → `scored.metrics.prom`);
   *   none for stream outputs
   */
  metricsFile?: string | false;
  /**
   * Pushgateway base URL: the metrics are also pushed (POST, `pushAdd`) under job `batch_inference` and
   * `pipeline` = `pipelineName`. A failed push calls `onPushError` and does not fail the run.
   * @default none
   * @example "http://pushgateway:9091"
   */
  pushgateway?: string;
  /**
   * The pipeline's stable name: the Pushgateway grouping key and the history records' `pipeline`. Never a run
   * id: Pushgateway groups live until deleted.
   * @default the model name
   */
  pipelineName?: string;
  /**
   * Run history (JSON Lines): each run, successful or not, appends one record, and the offline alert rules
   * judge the run against the earlier records of the same pipeline.
   * @default none
   */
  history?: string;
  /**
   * Called with each alert the offline rules fire for this run.
   * @default alerts are only recorded (in the summary and the history)
   */
  onAlert?: (alert: Alert) => void;
  /**
   * Called when the push to `pushgateway` fails.
   * @default push failures are ignored
   */
  onPushError?: (error: unknown) => void;
  /**
   * The W3C trace id of this run (32 lowercase hex digits): every HTTP attempt is a span of it, sent as
   * `traceparent`, and the model server logs it as `trace_id`; the summary and the run record keep it. Pass
   * the trace of the job that starts the run (e.g. from a `TRACEPARENT` variable) to join that trace.
   * @default a new random trace id per run
   * @example "4bf92f3577b34da6a3ce929d0e0e4736"
   */
  traceId?: string;
  /**
   * Called before each retry of an HTTP request, with the reason, the wait and the failed attempt's trace and
   * span ids (for logs: the ids find the server's log line of that attempt).
   * @default retries are only counted (summary `requests.retries`, metrics)
   */
  onRetry?: (event: RetryEvent) => void;
}

export interface ResolvedPipelineOptions {
  /** Paths and URLs (patterns expanded later, when the run starts), one stream, or a source of the caller's. */
  readonly input: readonly string[] | Readable | RecordSource;
  readonly inputFormat: InputFormat | undefined;
  readonly query: string | undefined;
  readonly inputTable: string | undefined;
  readonly output: string | Writable | RecordSink;
  readonly outputFormat: OutputFormat | undefined;
  readonly outputTable: string | undefined;
  readonly ifExists: 'fail' | 'append' | 'replace';
  readonly rejects: string | Writable | undefined;
  readonly summary: string | undefined;
  readonly columns: readonly string[] | undefined;
  readonly features: readonly string[] | undefined;
  readonly outputs: readonly string[] | undefined;
  readonly model: string;
  readonly modelVersion: number | undefined;
  readonly shadowVersion: number | undefined;
  readonly url: string | undefined;
  /** The gRPC address (`grpc://…` or `grpcs://…`) of a `v2-grpc` run, else undefined. */
  readonly grpcUrl: string | undefined;
  readonly models: string;
  /** undefined: chosen from the server's metadata when the run starts. */
  readonly protocol: Protocol | undefined;
  readonly predictRoute: string | undefined;
  readonly batchSize: number;
  /** Whether the caller chose the batch size (a model with a fixed batch dim takes its own otherwise). */
  readonly batchSizeSet: boolean;
  readonly concurrency: number;
  readonly timeout: number;
  readonly retries: number;
  readonly maxRejectRatio: number;
  readonly shard: Shard | undefined;
  readonly shardBy: string | undefined;
  readonly resume: boolean;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly progressInterval: number;
  readonly signal: AbortSignal | undefined;
  readonly metricsFile: string | undefined;
  readonly pushgateway: string | undefined;
  readonly pipelineName: string;
  readonly history: string | undefined;
  readonly onAlert: ((alert: Alert) => void) | undefined;
  readonly onPushError: ((error: unknown) => void) | undefined;
  readonly traceId: string;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
}

const KNOWN = [
  'input',
  'inputFormat',
  'query',
  'inputTable',
  'output',
  'outputFormat',
  'outputTable',
  'ifExists',
  'rejects',
  'summary',
  'columns',
  'features',
  'outputs',
  'model',
  'modelVersion',
  'shadowVersion',
  'url',
  'grpcUrl',
  'models',
  'protocol',
  'predictRoute',
  'batchSize',
  'concurrency',
  'timeout',
  'retries',
  'maxRejectRatio',
  'shard',
  'shardBy',
  'resume',
  'onProgress',
  'progressInterval',
  'signal',
  'metricsFile',
  'pushgateway',
  'pipelineName',
  'history',
  'onAlert',
  'onPushError',
  'traceId',
  'onRetry',
] as const;

function streamOrPath(
  name: string,
  value: unknown,
  required: boolean,
): string | Readable | Writable | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function')
    return value as Readable | Writable;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { write?: unknown }).write === 'function'
  )
    return value as Readable | Writable;
  throw new BatchInferError(
    ErrorCodes.INVALID_OPTION,
    `Invalid option \`${name}\`: expected a path or a stream, got ${show(value)}`,
    { context: { option: name } },
  );
}

function invalid(name: string, expected: string, value: unknown): never {
  throw new BatchInferError(
    ErrorCodes.INVALID_OPTION,
    `Invalid option \`${name}\`: expected ${expected}, got ${show(value)}`,
    { context: { option: name } },
  );
}

function inputOption(value: unknown): readonly string[] | Readable | RecordSource {
  if (isRecordSource(value)) return value;
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '' && v !== '-'))
      invalid('input', 'a non-empty list of file paths', value);
    return Object.freeze([...(value as string[])]);
  }
  const single = streamOrPath('input', value, true);
  return typeof single === 'string' ? Object.freeze([single]) : (single as Readable);
}

function namesOption(name: string, value: unknown, what: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => typeof v === 'string' && v !== '') ||
    new Set(value).size !== value.length
  )
    invalid(name, `a non-empty list of distinct ${what} names`, value);
  return Object.freeze([...(value as string[])]);
}

/**
 * The side files of a file output are named one way (issue #19): the output's path without its `.csv`, then
 * the suffix — `scored.csv` → `scored.rejects.csv`, `scored.summary.json`, `scored.metrics.prom` (the summary
 * and metrics used to keep the `.csv`: `scored.csv.summary.json`). The resume journal and the `.partial` files
 * are the output's own states and keep its whole name, `scored.csv.journal`, so a journal written before the
 * change still resumes: nothing it points at was renamed.
 */
function besideOutput(
  output: string | Writable | RecordSink,
  suffix: string,
  table?: string,
): string | undefined {
  if (typeof output !== 'string' || output === '-') return undefined;
  if (locationKind(output) !== 'file') return `${sideFileBase(output, table)}${suffix}`;
  return output.replace(/(\.csv|\.parquet)?$/i, suffix);
}

/** A file written beside a file output unless turned off with `false` (the summary, the metrics). */
function besideOption(
  name: string,
  value: unknown,
  output: string | Writable | RecordSink,
  suffix: string,
  table: string | undefined,
): string | undefined {
  if (value === false) return undefined;
  if (value !== undefined) return stringOption(name, value);
  return besideOutput(output, suffix, table);
}

function httpUrlOption(name: string, value: unknown): string | undefined {
  const url = stringOption(name, value);
  if (url !== undefined && !/^https?:\/\//.test(url)) invalid(name, 'an http(s) URL', url);
  return url;
}

/** Port of `batch-infer serve`'s gRPC service when nothing else is said. */
const DEFAULT_GRPC_PORT = 8081;

/**
 * The gRPC address of a `v2-grpc` run, as `grpc://host:port` or `grpcs://host:port`: the one given, else the
 * REST server's host on the default gRPC port. Only `v2-grpc` takes one.
 */
function grpcUrlOption(value: unknown, url: string | undefined, protocol: Protocol | undefined) {
  const given = stringOption('grpcUrl', value);
  if (given !== undefined && protocol !== 'v2-grpc')
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Option \`grpcUrl\` is for the v2-grpc protocol, not ${show(protocol ?? 'the protocol chosen from the server')}`,
      { context: { option: 'grpcUrl' } },
    );
  if (protocol !== 'v2-grpc' || url === undefined) return undefined;
  if (given === undefined) {
    const rest = new URL(url);
    return `${rest.protocol === 'https:' ? 'grpcs' : 'grpc'}://${rest.hostname}:${DEFAULT_GRPC_PORT}`;
  }
  const match = /^(?:(grpcs?):\/\/)?([^/\s]+?:\d+)\/?$/.exec(given);
  if (match === null) invalid('grpcUrl', 'grpc://host:port, grpcs://host:port or host:port', given);
  return `${match[1] ?? 'grpc'}://${match[2] as string}`;
}

function shardOption(value: unknown): Shard | undefined {
  if (value === undefined) return undefined;
  const { index, count } = (typeof value === 'object' && value !== null ? value : {}) as Partial<Shard>;
  if (
    !Number.isInteger(index) ||
    !Number.isInteger(count) ||
    (index as number) < 0 ||
    (index as number) >= (count as number)
  )
    invalid('shard', '{ index, count } with 0 ≤ index < count', value);
  return Object.freeze({ index: index as number, count: count as number });
}

function resumeOption(
  value: unknown,
  input: unknown,
  output: unknown,
  rejects: unknown,
  outputFormat: OutputFormat | undefined,
): boolean {
  if (value === undefined || value === false) return false;
  if (value !== true) invalid('resume', 'a boolean', value);
  const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? (input as string[]) : [];
  // Files, objects and URLs can be read again from the start; a query's rows may come in another order.
  const repeatable = inputs.length > 0 && inputs.every((i) => i !== '-' && locationKind(i) !== 'postgres');
  const rejectsFile =
    rejects === undefined || (typeof rejects === 'string' && locationKind(rejects) === 'file');
  const csvFile =
    typeof output === 'string' &&
    locationKind(output) === 'file' &&
    formatOfTarget(output, outputFormat) === 'csv';
  if (!repeatable || !csvFile || !rejectsFile)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      'Option `resume` needs input(s) that can be read again (files, objects, URLs: not stdin, a stream or a query) and a CSV file output (a Parquet file, a table or an object is written whole or not at all)',
      { context: { option: 'resume' } },
    );
  return true;
}

function callbackOption(name: string, value: unknown): ((...args: never[]) => unknown) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') invalid(name, 'a function', value);
  return value as (...args: never[]) => unknown;
}

/** A challenger version; its output columns are not something a resumed run's journal knows how to write. */
function shadowVersionOption(
  value: unknown,
  protocol: Protocol | undefined,
  resume: unknown,
): number | undefined {
  if (value === undefined) return undefined;
  const version = integerOption('shadowVersion', value, 1, 1);
  if (protocol === 'vertex' || protocol === 'sagemaker')
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Option \`shadowVersion\` needs a protocol whose requests name the model version (v2-json, v2-binary, v2-grpc or local), not ${show(protocol)}`,
      { context: { option: 'shadowVersion' } },
    );
  if (resume === true)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      'Option `shadowVersion` cannot be combined with `resume`',
      {
        context: { option: 'shadowVersion' },
      },
    );
  return version;
}

export function normalizePipelineOptions(options: PipelineOptions): ResolvedPipelineOptions {
  refuseUnknownKeys('createPipeline', options, KNOWN);
  const url = httpUrlOption('url', options.url);
  const protocol =
    options.protocol === undefined && url !== undefined
      ? options.grpcUrl === undefined
        ? undefined
        : 'v2-grpc'
      : choiceOption('protocol', options.protocol, PROTOCOLS, 'local');
  if (protocol !== undefined && protocol !== 'local' && url === undefined) {
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Option \`protocol\` ${show(protocol)} needs \`url\``,
      { context: { option: 'protocol' } },
    );
  }
  const shard = shardOption(options.shard);
  const target = isRecordSink(options.output)
    ? options.output
    : (streamOrPath('output', options.output, true) as string | Writable);
  const outputFormat =
    options.outputFormat === undefined
      ? undefined
      : choiceOption('outputFormat', options.outputFormat, OUTPUT_FORMATS, 'csv');
  const outputTable = stringOption('outputTable', options.outputTable);
  // Shards of a table output each write their rows into the one table; others write a part file each.
  const intoTable = typeof target === 'string' && locationKind(target) === 'postgres';
  if (shard !== undefined && !intoTable && (typeof target !== 'string' || target === '-'))
    invalid('output', 'a directory for the shard parts', target);
  const part = shard === undefined ? '' : partName(shard, outputFormat === 'parquet' ? '.parquet' : '.csv');
  const output =
    shard === undefined || intoTable
      ? target
      : locationKind(target as string) === 's3'
        ? `${(target as string).replace(/\/+$/, '')}/${part}`
        : join(target as string, part);
  const sideFile = (name: string, value: unknown, suffix: string): string | undefined =>
    besideOption(name, value, output, suffix, outputTable);
  const model = stringOption('model', options.model, 'weather');
  const shadowVersion = shadowVersionOption(options.shadowVersion, protocol, options.resume);
  return Object.freeze({
    input: inputOption(options.input),
    inputFormat:
      options.inputFormat === undefined
        ? undefined
        : choiceOption('inputFormat', options.inputFormat, INPUT_FORMATS, 'csv'),
    query: stringOption('query', options.query),
    inputTable: stringOption('inputTable', options.inputTable),
    output,
    outputFormat,
    outputTable,
    ifExists: choiceOption('ifExists', options.ifExists, IF_EXISTS, 'fail'),
    rejects:
      (streamOrPath('rejects', options.rejects, false) as string | Writable | undefined) ??
      besideOutput(output, '.rejects.csv', outputTable),
    summary: sideFile('summary', options.summary, '.summary.json'),
    columns: namesOption('columns', options.columns, 'column'),
    features: namesOption('features', options.features, 'column'),
    outputs: namesOption('outputs', options.outputs, 'output'),
    model,
    modelVersion:
      options.modelVersion === undefined
        ? undefined
        : integerOption('modelVersion', options.modelVersion, 1, 1),
    shadowVersion,
    url,
    grpcUrl: grpcUrlOption(options.grpcUrl, url, protocol),
    models: stringOption('models', options.models, BUNDLED_MODELS_DIR),
    protocol,
    predictRoute: stringOption('predictRoute', options.predictRoute),
    batchSize: integerOption(
      'batchSize',
      options.batchSize,
      protocol === 'vertex' || protocol === 'sagemaker' ? JSON_INSTANCES_BATCH_SIZE : DEFAULT_BATCH_SIZE,
      1,
      1_000_000,
    ),
    batchSizeSet: options.batchSize !== undefined,
    concurrency: integerOption(
      'concurrency',
      options.concurrency,
      protocol === 'local' ? LOCAL_CONCURRENCY : DEFAULT_CONCURRENCY,
      1,
      1024,
    ),
    timeout: integerOption('timeout', options.timeout, 30_000, 1),
    retries: integerOption('retries', options.retries, DEFAULT_RETRY_POLICY.retries, 0, 100),
    maxRejectRatio: numberOption('maxRejectRatio', options.maxRejectRatio, 1, 0, 1),
    shard,
    shardBy: stringOption('shardBy', options.shardBy),
    resume: resumeOption(options.resume, options.input, output, options.rejects, outputFormat),
    onProgress: callbackOption('onProgress', options.onProgress) as ResolvedPipelineOptions['onProgress'],
    progressInterval: integerOption('progressInterval', options.progressInterval, 1000, 1),
    signal: signalOption('signal', options.signal),
    metricsFile: sideFile('metricsFile', options.metricsFile, '.metrics.prom'),
    pushgateway: httpUrlOption('pushgateway', options.pushgateway),
    pipelineName: stringOption('pipelineName', options.pipelineName, model),
    history: stringOption('history', options.history),
    onAlert: callbackOption('onAlert', options.onAlert) as ResolvedPipelineOptions['onAlert'],
    onPushError: callbackOption('onPushError', options.onPushError) as ResolvedPipelineOptions['onPushError'],
    traceId: traceIdOption('traceId', options.traceId) ?? newTraceId(),
    onRetry: callbackOption('onRetry', options.onRetry) as ResolvedPipelineOptions['onRetry'],
  });
}
