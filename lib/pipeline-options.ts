/** Options of `createPipeline`, normalized once into a frozen object (STYLE.md §2). */
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
import { DEFAULT_BATCH_SIZE } from './streams/batcher.js';
import { DEFAULT_CONCURRENCY } from './streams/model-scorer.js';
import { BUNDLED_MODELS_DIR } from './model-files.js';

export const PROTOCOLS = ['v2-json', 'local'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface PipelineOptions {
  /** CSV input: a file path, `-` for stdin, or a Readable of CSV bytes. Required. */
  input: string | Readable;
  /** Output CSV: a file path (written atomically), `-` for stdout, or a Writable. Required. */
  output: string | Writable;
  /**
   * Rejects CSV (original columns, `line`, `error`): a path or a Writable.
   * @default `<output>.rejects.csv` beside a file output; none (counted only) for stream outputs
   */
  rejects?: string | Writable;
  /**
   * Model name.
   * @default "weather"
   */
  model?: string;
  /**
   * Model version.
   * @default the latest
   */
  modelVersion?: number;
  /**
   * Model server base URL, e.g. `http://127.0.0.1:8080`. Without it the model runs in process.
   * @default undefined
   */
  url?: string;
  /**
   * Model repository for in-process scoring.
   * @default the bundled repository
   */
  models?: string;
  /**
   * How batches reach the model.
   * @default "v2-json" with `url`, "local" without
   */
  protocol?: Protocol;
  /**
   * Rows per request.
   * @default 256
   */
  batchSize?: number;
  /**
   * Requests in flight at most.
   * @default 4
   */
  concurrency?: number;
  /**
   * Per-request timeout in milliseconds.
   * @default 30000
   */
  timeout?: number;
  /**
   * Fail the run (BI_ERR_TOO_MANY_REJECTS) when rejected / read rows exceeds this ratio.
   * @default 1 (never)
   */
  maxRejectRatio?: number;
  /** Aborting the signal stops the run; nothing is committed. */
  signal?: AbortSignal;
}

export interface ResolvedPipelineOptions {
  readonly input: string | Readable;
  readonly output: string | Writable;
  readonly rejects: string | Writable | undefined;
  readonly model: string;
  readonly modelVersion: number | undefined;
  readonly url: string | undefined;
  readonly models: string;
  readonly protocol: Protocol;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly timeout: number;
  readonly maxRejectRatio: number;
  readonly signal: AbortSignal | undefined;
}

const KNOWN = [
  'input',
  'output',
  'rejects',
  'model',
  'modelVersion',
  'url',
  'models',
  'protocol',
  'batchSize',
  'concurrency',
  'timeout',
  'maxRejectRatio',
  'signal',
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

function defaultRejects(output: string | Writable): string | undefined {
  if (typeof output !== 'string' || output === '-') return undefined;
  return output.replace(/(\.csv)?$/i, '.rejects.csv');
}

export function normalizePipelineOptions(options: PipelineOptions): ResolvedPipelineOptions {
  refuseUnknownKeys('createPipeline', options, KNOWN);
  const url = stringOption('url', options.url);
  if (url !== undefined && !/^https?:\/\//.test(url)) {
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Invalid option \`url\`: expected an http(s) URL, got ${show(url)}`,
      { context: { option: 'url' } },
    );
  }
  const protocol = choiceOption(
    'protocol',
    options.protocol,
    PROTOCOLS,
    url === undefined ? 'local' : 'v2-json',
  );
  if (protocol !== 'local' && url === undefined) {
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Option \`protocol\` ${show(protocol)} needs \`url\``,
      { context: { option: 'protocol' } },
    );
  }
  const output = streamOrPath('output', options.output, true) as string | Writable;
  return Object.freeze({
    input: streamOrPath('input', options.input, true) as string | Readable,
    output,
    rejects:
      (streamOrPath('rejects', options.rejects, false) as string | Writable | undefined) ??
      defaultRejects(output),
    model: stringOption('model', options.model, 'weather'),
    modelVersion:
      options.modelVersion === undefined
        ? undefined
        : integerOption('modelVersion', options.modelVersion, 1, 1),
    url,
    models: stringOption('models', options.models, BUNDLED_MODELS_DIR),
    protocol,
    batchSize: integerOption('batchSize', options.batchSize, DEFAULT_BATCH_SIZE, 1, 1_000_000),
    concurrency: integerOption('concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1, 1024),
    timeout: integerOption('timeout', options.timeout, 30_000, 1),
    maxRejectRatio: numberOption('maxRejectRatio', options.maxRejectRatio, 1, 0, 1),
    signal: signalOption('signal', options.signal),
  });
}
