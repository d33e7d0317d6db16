/**
 * `createPipeline` wires the usual run: source (CSV or JSON Lines files, stdin, a stream, Parquet, PostgreSQL,
 * S3, https) → Preprocessor → Batcher (both done by one stage: the CSV batch reader for a single CSV input,
 * else the record batcher) → ModelScorer → Postprocessor → sink, with rejects to their own CSV, progress
 * reports, and a run summary JSON beside the output. Outputs are committed (renamed into place) only when
 * every stage finished; any failure or abort discards them. Every run, failed ones too, ends with its record
 * (lib/monitoring): drift and quality, metrics.prom, a Pushgateway push, a history line and the offline alert
 * rules.
 */
import { performance } from 'node:perf_hooks';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { BatchInferError, ErrorCodes, isBatchInferError } from './errors.js';
import type { Disagreement } from './core/compare.js';
import type { DriftReport } from './core/drift.js';
import type { Alert } from './core/trends.js';
import { finishRun } from './monitoring/finish-run.js';
import { PredictionTap } from './monitoring/prediction-tap.js';
import { ShadowPostprocessor } from './monitoring/shadow-output.js';
import { ShadowTap } from './monitoring/shadow-tap.js';
import type { QualityReport, RunOutcome, RunRecord } from './monitoring/run-record.js';
import { RunStats } from './monitoring/run-stats.js';
import { fingerprint } from './core/fingerprint.js';
import { OutputFormat } from './core/output-format.js';
import type { OutputPlan } from './core/output-plan.js';
import { progressOf, type Progress } from './core/progress.js';
import { shardRange } from './core/shard.js';
import { openJournal, readJournal, START, type Checkpoint } from './io/journal.js';
import { ResumableWriter } from './io/resumable-writer.js';
import { writeFileAtomic } from './io/atomic-file.js';
import { formatOfTarget, locationKind, redactUrl } from './io/locations.js';
import { openOutput, openRejects, rejectsWriter } from './io/sinks.js';
import {
  expandInputs,
  csvBytesOpener,
  inputSource,
  openRecords,
  totalBytes,
  type InputOptions,
} from './io/sources.js';
import { isRecordSource, type RecordSink, type RecordSource } from './io/table.js';
import {
  normalizePipelineOptions,
  type PipelineOptions,
  type Protocol,
  type ResolvedPipelineOptions,
} from './pipeline-options.js';
import { resolveModel, type ResolvedModel } from './pipeline-model.js';
import { CsvBatchReader } from './streams/csv-batch-reader.js';
import { ModelScorer } from './streams/model-scorer.js';
import { Postprocessor } from './streams/postprocessor.js';
import type { Preprocessor } from './streams/preprocessor.js';
import { RecordBatcher } from './streams/record-batcher.js';
import { RowsPostprocessor } from './streams/rows-postprocessor.js';
import { RowRange } from './streams/row-range.js';
import type { RejectedRow } from './types.js';

export type { PipelineOptions } from './pipeline-options.js';

export interface RunSummary {
  status: 'succeeded';
  model: { name: string; version: number | undefined };
  protocol: Protocol;
  inputs: string[];
  rows: { read: number; scored: number; rejected: number };
  timings: { started_at: string; duration_ms: number };
  throughput_rows_per_s: number;
  output: string;
  rejects: string | null;
  /** The run summary JSON written beside the output, if any. */
  summary: string | null;
  /**
   * A champion/challenger run's challenger (option `shadowVersion`) and how often its prediction differed from
   * the champion's, overall and per label the champion predicted; null for a plain run.
   */
  shadow: ({ version: number } & Disagreement) | null;
  /**
   * sha256 of the settings that decide the output's bytes: inputs, input format, kept columns, model name,
   * version and contract, batch size, reject ratio. Transport settings (url, protocol, concurrency, timeout,
   * retries) are left out: they change how fast, not what.
   */
  config_fingerprint: string;
  /** The run's W3C trace id (option `traceId`): the model server's log lines of its requests carry it. */
  trace_id: string;
  /** HTTP requests (attempts): count, latency percentiles, retries and outcomes; all zero for `local`. */
  requests: RunRecord['requests'];
  /** Drift against the model's reference profile; null when its model.json has none. */
  drift: DriftReport | null;
  /** Missing and out-of-range ratios per feature; null without a reference profile. */
  quality: QualityReport | null;
  /** Offline alert rules that fired (lib/core/trends.ts), judged against the `history` when there is one. */
  alerts: Alert[];
  /** The metrics file written, if any. */
  metrics: string | null;
}

type ScoredSummary = Omit<RunSummary, 'requests' | 'drift' | 'quality' | 'alerts' | 'metrics'>;

/** Input errors as BatchInferErrors with the codes the CLI maps to exit 65. */
function inputError(err: unknown): unknown {
  const e = err as { code?: unknown; message?: string; path?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('CSV_'))
    return new BatchInferError(ErrorCodes.CSV_PARSE, `Input is not valid CSV: ${e.message ?? ''}`, {
      cause: err,
    });
  if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')
    return new BatchInferError(ErrorCodes.INPUT_NOT_FOUND, `Cannot read input: ${e.message ?? ''}`, {
      cause: err,
    });
  return err;
}

function configOf(
  o: ResolvedPipelineOptions,
  inputs: string[],
  model: ResolvedModel,
): Record<string, unknown> {
  return {
    inputs,
    input_format: o.inputFormat ?? null,
    // Only when set, so that file runs keep the fingerprints (and resume journals) they always had.
    ...(o.query === undefined ? {} : { query: o.query }),
    ...(o.inputTable === undefined ? {} : { input_table: o.inputTable }),
    ...(o.shardBy === undefined ? {} : { shard_by: o.shardBy }),
    columns: o.columns ?? null,
    // Only when set, so that runs without them keep the fingerprints (and resume journals) they always had.
    ...(o.features === undefined ? {} : { features: o.features }),
    ...(o.outputs === undefined ? {} : { outputs: o.outputs }),
    model: model.contract.name,
    model_version: model.version ?? null,
    // Only when set, so that plain runs keep the fingerprints (and resume journals) they always had.
    ...(model.challenger === undefined ? {} : { shadow_version: model.challenger.version }),
    contract: fingerprint(model.contract),
    batch_size: batchSizeOf(o, model),
    max_reject_ratio: o.maxRejectRatio,
    shard: o.shard ?? null,
  };
}

/**
 * Rows per batch: the option's, unless the model's batch dim is fixed (a `[1, 2]` input takes one row at a
 * time); a batch size set to something else is refused rather than failing every request.
 */
function batchSizeOf(o: ResolvedPipelineOptions, model: ResolvedModel): number {
  const fixed = model.inputPlan.fixedBatch;
  if (fixed === undefined) return o.batchSize;
  if (o.batchSizeSet && o.batchSize !== fixed)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      `Model ${model.contract.name} takes batches of exactly ${fixed} row(s) (its input shape is fixed), not batchSize ${o.batchSize}`,
      { context: { option: 'batchSize' } },
    );
  return fixed;
}

/** How the input's sources are opened: its format, a query's text or table, a query's shard. */
function inputOptionsOf(o: ResolvedPipelineOptions): InputOptions {
  return {
    inputFormat: o.inputFormat,
    query: o.query,
    inputTable: o.inputTable,
    shardBy: o.shard === undefined || o.shardBy === undefined ? undefined : { ...o.shard, by: o.shardBy },
  };
}

/**
 * A shard's part of the input: its whole files when there are several; the rows whose `shardBy` key hashes to
 * it for a query; else the whole file and the range of rows it takes, from a Parquet file's metadata or counted
 * by reading the file once first (a row count is the only split that keeps records with quoted newlines whole
 * and the parts in order).
 */
async function shardInputs(
  o: ResolvedPipelineOptions,
  inputs: string[],
): Promise<{ inputs: string[]; rows?: { start: number; end: number } }> {
  const shard = o.shard;
  if (o.shardBy !== undefined && (shard === undefined || locationKind(inputs[0] ?? '') !== 'postgres'))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      'Option `shardBy` is for a sharded postgres:// input',
      {
        context: { option: 'shardBy' },
      },
    );
  if (shard === undefined) return { inputs };
  if (inputs.length === 0 || inputs.includes('-'))
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      'Option `shard` needs file, object or table input(s)',
      {
        context: { option: 'shard' },
      },
    );
  if (locationKind(inputs[0] as string) === 'postgres') {
    if (o.shardBy === undefined)
      throw new BatchInferError(
        ErrorCodes.INVALID_OPTION,
        'Option `shard` on a postgres:// input needs `shardBy` (--shard-by <column>): the rows of a query have no order to split by',
        { context: { option: 'shardBy' } },
      );
    return { inputs };
  }
  if (inputs.length > 1) {
    const { start, end } = shardRange(inputs.length, shard);
    return { inputs: inputs.slice(start, end) };
  }
  const source = await inputSource(inputs[0] as string, inputOptionsOf(o), () => undefined);
  let records = (await source.size()).rows;
  if (records === undefined) {
    let counted = 0;
    const counting = openRecords([source], o.inputFormat, () => undefined);
    counting.on('data', () => counted++);
    await finished(counting);
    records = Math.max(0, counted - 1);
  }
  return { inputs, rows: shardRange(records, shard) };
}

/**
 * The rows the run will read, when every source knows its count before reading (a Parquet file's footer): what
 * progress measures the ETA against when there are no text files' bytes to count.
 */
async function rowsOf(
  sources: readonly RecordSource[],
  range: { start: number; end: number } | undefined,
): Promise<number | undefined> {
  if (range !== undefined) return range.end - range.start;
  if (sources.length === 0) return undefined;
  let total = 0;
  for (const source of sources) {
    const rows = (await source.size()).rows;
    if (rows === undefined) return undefined;
    total += rows;
  }
  return total;
}

/** Calls `onProgress` every `interval` ms until stopped; a throwing callback aborts the run with its error. */
function startProgress(
  o: ResolvedPipelineOptions,
  sample: (done: boolean) => Progress,
  abort: (err: unknown) => void,
): { stop(done: boolean): void } {
  const report = o.onProgress;
  if (report === undefined) return { stop: () => undefined };
  const call = (done: boolean): void => {
    try {
      report(sample(done));
    } catch (err) {
      abort(err);
    }
  };
  const timer = setInterval(() => call(false), o.progressInterval);
  // A progress timer must not keep a finished process alive.
  timer.unref();
  return {
    stop(done) {
      clearInterval(timer);
      if (done) call(true);
    },
  };
}

/** Where scored batches go: the usual Postprocessor → CSV → atomic files, or the resumable writer. */
interface RunSink {
  stages: NodeJS.WritableStream[];
  reject(row: RejectedRow): void;
  /** Rows scored and rejected that count in this run's summary (with a resumed run's earlier ones). */
  counts(): { scored: number; rejected: number };
  /** Called once the pipeline finished: flushes rejects. */
  end(): Promise<void>;
  commit(): Promise<void>;
  /** Commits the rejects only (too many rejects fails the run but keeps them). */
  commitRejects(): Promise<void>;
  discard(): Promise<void>;
}

interface Stages {
  /**
   * What decides each row, as the Preprocessor would: the CSV batch reader's (a single CSV input) or the record
   * batcher's.
   */
  preprocessor: Pick<Preprocessor, 'columns' | 'columnTypes' | 'counts' | 'busyMs'>;
  modelScorer: ModelScorer;
  /** In a champion/challenger run: splits the two models' probabilities and counts disagreement. */
  shadowTap: ShadowTap | undefined;
}

/** The stage that turns scored batches into what the output takes: CSV bytes, or typed rows. */
function outputStage(
  o: ResolvedPipelineOptions,
  plan: OutputPlan,
  stages: Stages,
  output: RecordSink,
): NodeJS.ReadWriteStream {
  const keep = o.columns === undefined ? {} : { keepColumns: o.columns };
  if (output.kind === 'rows') {
    if (stages.shadowTap !== undefined)
      throw new BatchInferError(
        ErrorCodes.INVALID_OPTION,
        'Option `shadowVersion` writes a CSV output: the challenger columns have no place in a Parquet file or a table yet',
        { context: { option: 'shadowVersion' } },
      );
    return new RowsPostprocessor({
      plan,
      inputColumns: () => stages.preprocessor.columnTypes,
      columnar: output.columnar === true,
      ...keep,
    });
  }
  const format = { inputColumns: () => stages.preprocessor.columns, ...keep };
  // Both write the CSV text themselves (csv-stringify's bytes, without its per-row cost).
  return stages.shadowTap === undefined
    ? new Postprocessor({ ...format, plan, output: 'csv' })
    : new ShadowPostprocessor({ ...format, labels: plan.classifier?.labels ?? [] });
}

function plainSink(
  o: ResolvedPipelineOptions,
  plan: OutputPlan,
  stages: Stages,
  withFile: boolean,
  output: RecordSink,
  rejectsSink: RecordSink | undefined,
): RunSink {
  const s = (): Stages => stages;
  const rejects = rejectsWriter(rejectsSink, () => s().preprocessor.columnTypes, withFile);
  return {
    stages: [outputStage(o, plan, stages, output), output.stream],
    reject: (row) => rejects.write(row),
    counts: () => ({
      scored: s().modelScorer.counts.rows,
      rejected: s().preprocessor.counts.rejected + s().modelScorer.counts.rejected,
    }),
    end: () => rejects.end(),
    async commit() {
      await output.commit();
      await rejectsSink?.commit();
    },
    commitRejects: async () => rejectsSink?.commit(),
    async discard() {
      await output.discard();
      await rejectsSink?.discard();
    },
  };
}

async function resumableSink(
  o: ResolvedPipelineOptions,
  plan: OutputPlan,
  stages: Stages,
  withFile: boolean,
  configFingerprint: string,
  from: Checkpoint,
): Promise<RunSink> {
  const s = (): Stages => stages;
  const output = o.output as string;
  const rejects = typeof o.rejects === 'string' ? o.rejects : undefined;
  const journalPath = `${output}.journal`;
  const journal = await openJournal(journalPath, configFingerprint, from);
  const partial = (path: string): string => `${path}.partial`;
  const writer = new ResumableWriter({
    outputPartial: partial(output),
    rejectsPartial: rejects === undefined ? undefined : partial(rejects),
    format: new OutputFormat(plan, o.columns),
    columns: () => s().preprocessor.columns,
    withFile,
    journal,
    from,
    commitInterval: RESUME_COMMIT_INTERVAL_MS,
  });
  return {
    stages: [writer],
    reject: (row) => writer.reject(row),
    counts: () => ({
      scored: from.scored + writer.counts.scored,
      rejected: from.rejected + writer.counts.rejected,
    }),
    end: () => Promise.resolve(),
    async commit() {
      await rename(partial(output), output);
      if (rejects !== undefined) await rename(partial(rejects), rejects);
      await journal.remove();
    },
    async commitRejects() {
      if (rejects !== undefined) await rename(partial(rejects), rejects);
      await rm(partial(output), { force: true });
      await journal.remove();
    },
    // A failed resumable run keeps its partial files and journal: they are what the next run continues from.
    discard: () => journal.close().catch(() => undefined),
  };
}

/**
 * How often a resumable run checkpoints. Each checkpoint fsyncs three files; once a second costs little and
 * loses at most a second of work to a crash.
 */
const RESUME_COMMIT_INTERVAL_MS = 1000;

/** The error as the run record keeps it: its code when it has one. */
function errorOf(err: unknown): { code: string | null; message: string } {
  return {
    code: isBatchInferError(err) ? err.code : null,
    message: err instanceof Error ? err.message : String(err),
  };
}

export async function createPipeline(options: PipelineOptions): Promise<RunSummary> {
  const o = normalizePipelineOptions(options);
  const stats = new RunStats();
  const run: RunOutcome = {
    pipeline: o.pipelineName,
    trace_id: o.traceId,
    model: { name: o.model, version: o.modelVersion ?? null },
    inputs: [],
    counts: { read: 0, scored: 0, rejected: 0 },
  };
  let scored: { summary: ScoredSummary; config: Record<string, unknown> };
  try {
    scored = await scoreRun(o, stats, run);
  } catch (err) {
    run.error = errorOf(err);
    // The run's own error is the one to report; a monitoring failure on top of it would only hide it.
    await finishRun(stats, run, o).catch(() => undefined);
    throw err;
  }
  const record = await finishRun(stats, run, o);
  const summary: RunSummary = {
    ...scored.summary,
    requests: record.requests,
    drift: record.drift,
    quality: record.quality,
    alerts: record.alerts,
    metrics: o.metricsFile ?? null,
  };
  if (o.summary !== undefined)
    await writeFileAtomic(o.summary, `${JSON.stringify({ ...summary, config: scored.config }, null, 2)}\n`);
  return summary;
}

/** Scores the input; `stats` and `run` are kept up to date so that a failed run can be recorded too. */
async function scoreRun(
  o: ResolvedPipelineOptions,
  stats: RunStats,
  run: RunOutcome,
): Promise<{ summary: ScoredSummary; config: Record<string, unknown> }> {
  const startedAt = stats.startedAt;
  const started = performance.now();
  let bytesRead = 0;
  const onBytes = (n: number): void => {
    bytesRead += n;
  };
  const allInputs = Array.isArray(o.input) ? await expandInputs(o.input as readonly string[]) : [];
  const { inputs, rows: rowRange } = await shardInputs(o, allInputs);
  const sources = isRecordSource(o.input)
    ? [o.input]
    : await Promise.all(inputs.map((i) => inputSource(i, inputOptionsOf(o), onBytes)));
  // Names as logs and summaries show them: a URL's password is never among them.
  const inputNames = sources.length > 0 ? sources.map((source) => source.name) : ['<stream>'];
  run.inputs = inputNames;
  // Progress counts the bytes of text files; a Parquet file, an object, a URL or a query has no ETA.
  const textFiles = inputs.every(
    (i) => locationKind(i) === 'file' && formatOfTarget(i, o.inputFormat) !== 'parquet',
  );
  // Output directories are created as needed (as `aws s3 cp` or `mkdir -p` users expect), never half-written.
  for (const target of [o.output, o.rejects, o.summary]) {
    if (typeof target === 'string' && locationKind(target) === 'file')
      await mkdir(dirname(target), { recursive: true });
  }
  const bytesTotal = inputs.length > 0 && textFiles ? await totalBytes(inputs) : undefined;
  const rowsTotal = bytesTotal === undefined ? await rowsOf(sources, rowRange) : undefined;
  const model = await resolveModel(o, {
    onAttempt: stats.onAttempt,
    onRetry: (event) => {
      stats.onRetry();
      o.onRetry?.(event);
    },
  });
  const { contract, version } = model;
  const scorer = stats.timed(model.scorer);
  run.model = { name: contract.name, version: version ?? null };
  stats.profile(
    contract,
    model.inputPlan.monitored.map((f) => f.name),
  );
  const drift = stats.drift;
  const config = configOf(o, allInputs.length > 0 ? allInputs.map(redactUrl) : ['<stream>'], model);
  const configFingerprint = fingerprint(config);
  // Rows a resumed run's earlier attempts finished; the Preprocessor reads past them.
  const from = o.resume
    ? ((await readJournal(`${o.output as string}.journal`, configFingerprint)) ?? START)
    : undefined;
  let rejectTo: (row: RejectedRow) => void = () => undefined;
  const input = o.input instanceof Readable ? o.input : inputs;
  // One CSV source is read by the fused CSV batch reader; anything else record by record.
  const openBytes =
    rowRange === undefined && !isRecordSource(o.input)
      ? csvBytesOpener(input, o.inputFormat, onBytes)
      : undefined;
  const batchSize = batchSizeOf(o, model);
  const rowOptions = {
    plan: model.inputPlan,
    onReject: (row: RejectedRow) => rejectTo(row),
    skipRows: from?.rows ?? 0,
  };
  const onRaw = drift === undefined ? undefined : (raw: Float64Array) => drift.addFeatures(raw);
  // Source → batches: the fused CSV batch reader, or records → the record batcher (Preprocessor and Batcher in
  // one stage).
  let rowStage: Stages['preprocessor'];
  let batchStages: NodeJS.ReadWriteStream[];
  if (openBytes !== undefined) {
    const reader = new CsvBatchReader({ ...rowOptions, onRaw, batchSize });
    rowStage = reader.rows;
    batchStages = [reader];
  } else {
    const batcher = new RecordBatcher({ ...rowOptions, onRaw, batchSize });
    rowStage = batcher.rows;
    batchStages = [...(rowRange === undefined ? [] : [new RowRange(rowRange.start, rowRange.end)]), batcher];
  }
  const classifier = model.outputPlan.classifier;
  const stages: Stages = {
    preprocessor: rowStage,
    modelScorer: new ModelScorer({
      scorer,
      ...(classifier === undefined ? {} : { probabilities: classifier.probabilities }),
      concurrency: o.concurrency,
      onReject: (row) => rejectTo(row),
    }),
    shadowTap:
      model.challenger === undefined || classifier === undefined
        ? undefined
        : new ShadowTap(classifier.labels, classifier.probabilities),
  };
  const { preprocessor, modelScorer, shadowTap } = stages;
  let sink: RunSink;
  let output: RecordSink | undefined;
  let rejectsSink: RecordSink | undefined;
  try {
    if (from === undefined) {
      output = await openOutput(o.output, o);
      rejectsSink = o.rejects === undefined ? undefined : await openRejects(o.rejects, o.ifExists);
      sink = plainSink(o, model.outputPlan, stages, allInputs.length > 1, output, rejectsSink);
    } else
      sink = await resumableSink(o, model.outputPlan, stages, allInputs.length > 1, configFingerprint, from);
  } catch (err) {
    await output?.discard().catch(() => undefined);
    await rejectsSink?.discard().catch(() => undefined);
    await scorer.close();
    throw err;
  }
  rejectTo = (row) => sink.reject(row);
  const internal = new AbortController();
  let failure: unknown;
  const signal = o.signal === undefined ? internal.signal : AbortSignal.any([o.signal, internal.signal]);
  const counts = () => ({ read: preprocessor.counts.read, ...sink.counts() });
  const progress = startProgress(
    o,
    (done) =>
      progressOf(
        {
          ...counts(),
          bytesRead: bytesTotal === undefined ? undefined : bytesRead,
          bytesTotal,
          rowsTotal,
        },
        performance.now() - started,
        done,
      ),
    (err) => {
      failure = err;
      internal.abort(err);
    },
  );
  try {
    const source: Readable =
      openBytes?.() ??
      openRecords(input instanceof Readable ? input : sources, o.inputFormat, onBytes, signal);
    const reading = stats.elapsed();
    source.once('end', () => (stats.stages.read = stats.elapsed() - reading));
    await pipeline(
      [
        source,
        ...batchStages,
        modelScorer,
        ...(shadowTap === undefined ? [] : [shadowTap]),
        ...(drift === undefined || classifier === undefined
          ? []
          : [new PredictionTap(classifier.labels.length, (label) => drift.addPrediction(label))]),
        ...sink.stages,
      ],
      { signal },
    ).catch((err: unknown) => {
      throw failure ?? inputError(err);
    });
    const writing = stats.elapsed();
    await sink.end();
    const { read, rejected } = counts();
    if (read > 0 && rejected / read > o.maxRejectRatio) {
      await sink.commitRejects();
      throw new BatchInferError(
        ErrorCodes.TOO_MANY_REJECTS,
        `${rejected} of ${read} rows rejected (${((100 * rejected) / read).toFixed(2)} %), more than maxRejectRatio ${o.maxRejectRatio}`,
      );
    }
    await sink.commit();
    stats.stages.write = stats.elapsed() - writing;
  } catch (err) {
    progress.stop(false);
    await sink.discard();
    throw err;
  } finally {
    stats.stages.preprocess = preprocessor.busyMs / 1000;
    run.counts = counts();
    await scorer.close();
  }
  progress.stop(true);
  const durationMs = performance.now() - started;
  const summary: ScoredSummary = {
    status: 'succeeded',
    model: { name: contract.name, version },
    protocol: model.protocol,
    inputs: inputNames,
    rows: counts(),
    timings: { started_at: startedAt.toISOString(), duration_ms: Math.round(durationMs) },
    throughput_rows_per_s: Math.round(counts().read / (durationMs / 1000)),
    output: output?.name ?? (typeof o.output === 'string' ? o.output : '<stream>'),
    rejects:
      o.rejects === undefined ? null : typeof o.rejects === 'string' ? redactUrl(o.rejects) : '<stream>',
    summary: o.summary ?? null,
    shadow:
      model.challenger === undefined || shadowTap === undefined
        ? null
        : { version: model.challenger.version, ...shadowTap.disagreement() },
    config_fingerprint: configFingerprint,
    trace_id: o.traceId,
  };
  return { summary, config };
}
