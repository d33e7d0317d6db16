/**
 * The engine of one served model version: a dynamic-batching queue in front of the worker pool. At most one
 * batch per worker is in flight, so while the workers are busy requests gather into larger batches, as in
 * Triton. A request is dropped with BI_ERR_TIMEOUT if its deadline passes while it waits, and a batch that
 * fails is re-run request by request, so one bad request never fails its batch-mates.
 *
 * While none of the model's runs is in flight, a request is sent at once: waiting `maxQueueDelayMs` for
 * batch-mates that nothing says are coming only adds latency (a lone client would wait the whole delay on every
 * request). While a run is in flight, requests gather behind it and leave together when it ends (or when the
 * oldest has waited `maxQueueDelayMs`, or the batch is full, to use another worker).
 *
 * Every request that settles is counted in the version's statistics (statistics.ts, Triton's statistics
 * extension): the clock readings that feed them are taken per run, not per request.
 */
import { performance } from 'node:perf_hooks';
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import type { ModelContract } from '../../lib/core/model-contract.js';
import type { ServerMetrics } from '../metrics.js';
import { batchKey, concatInputs, copyTensors, rowsOf, splitOutputs } from './batch-tensors.js';
import { DynamicBatcher, type Queued } from './dynamic-batcher.js';
import type { ModelStatistics } from './statistics.js';
import type { InferenceEngine, InferOptions, Tensor } from './types.js';
import type { WorkerPool } from './worker-pool.js';

export interface PoolEngineOptions {
  pool: WorkerPool;
  /** The pool's name for this model version's sessions (loaded by the caller). */
  key: string;
  contract: ModelContract;
  version: number;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueueSize: number;
  metrics: ServerMetrics;
}

interface Request extends Queued {
  inputs: Tensor[];
  outputNames: readonly string[];
  /** When its run started (performance.now()), for the queue time in the statistics. */
  startedAt: number;
  resolve(outputs: Tensor[]): void;
  reject(err: unknown): void;
}

/** Requests can be concatenated only when every input and output has the batch as its first dim. */
export function isBatchable(contract: ModelContract): boolean {
  return [...contract.inputs, ...contract.outputs].every((t) => t.shape[0] === -1);
}

/** The model's metrics, with label objects made once rather than per request. */
interface ModelMetrics {
  inflight(delta: 1 | -1): void;
  queueSeconds(seconds: number): void;
  runSeconds(seconds: number): void;
  batchRows(rows: number): void;
  error(reason: 'overloaded' | 'timeout'): void;
}

function modelMetrics(metrics: ServerMetrics, name: string, version: string): ModelMetrics {
  const model = { model_name: name };
  const inflight = metrics.inflightOf(name);
  const errors = {
    overloaded: { model_name: name, model_version: version, reason: 'overloaded' },
    timeout: { model_name: name, model_version: version, reason: 'timeout' },
  };
  return {
    inflight: (delta) => (inflight.n += delta),
    queueSeconds: (seconds) => metrics.queueDuration.observe(model, seconds),
    runSeconds: (seconds) => metrics.inferenceDuration.observe(model, seconds),
    batchRows: (rows) => metrics.batchSize.observe(model, rows),
    error: (reason) => metrics.predictionErrors.inc(errors[reason]),
  };
}

export class PoolEngine implements InferenceEngine {
  readonly #pool: WorkerPool;
  readonly #key: string;
  readonly #metrics: ModelMetrics;
  readonly #stats: ModelStatistics;
  readonly #labels: { model_name: string; model_version: string };
  readonly #batchable: boolean;
  /** Requests are merged into batches: the model batches and `maxBatchSize` is not 0. */
  readonly #batches: boolean;
  /**
   * When no input has a variable dim past the batch, every request the routes let through has the contract's
   * dims, so all share one batch key: no key to compute per request.
   */
  readonly #oneKey: boolean;
  readonly #batcher: DynamicBatcher<Request>;
  #running = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(options: PoolEngineOptions) {
    this.#pool = options.pool;
    this.#key = options.key;
    this.#labels = { model_name: options.contract.name, model_version: String(options.version) };
    this.#metrics = modelMetrics(options.metrics, this.#labels.model_name, this.#labels.model_version);
    this.#stats = options.metrics.statistics.of(options.contract.name, options.version);
    this.#batchable = isBatchable(options.contract);
    this.#batches = this.#batchable && options.maxBatchSize > 0;
    this.#oneKey = options.contract.inputs.every((t) => t.shape.slice(1).every((d) => d >= 0));
    this.#batcher = new DynamicBatcher({
      maxBatchSize: this.#batchable ? options.maxBatchSize : 0,
      maxQueueDelayMs: options.maxQueueDelayMs,
      maxQueueSize: options.maxQueueSize,
      model: options.contract.name,
    });
  }

  infer(inputs: Tensor[], outputNames: readonly string[], options: InferOptions = {}): Promise<Tensor[]> {
    const metrics = this.#metrics;
    /** Settles the request and takes it out of the in-flight gauge (no `finally`: one promise less). */
    const leaving =
      <T>(settle: (value: T) => void) =>
      (value: T): void => {
        metrics.inflight(-1);
        settle(value);
      };
    return new Promise<Tensor[]>((resolve, reject) => {
      if (this.#closing) {
        this.#stats.failed(0);
        throw new BatchInferError(
          ErrorCodes.OVERLOADED,
          `Model ${show(this.#labels.model_name)} version ${this.#labels.model_version} is being unloaded`,
        );
      }
      // Requests that expired in the queue must not hold the places of live ones.
      this.#expire();
      try {
        this.#batcher.push({
          key: this.#batchable && !this.#oneKey ? batchKey(inputs) : '',
          rows: rowsOf(inputs),
          queuedAt: performance.now(),
          deadline: options.deadline,
          inputs,
          outputNames,
          startedAt: 0,
          resolve: leaving(resolve),
          reject: leaving(reject),
        });
      } catch (err) {
        metrics.error('overloaded');
        this.#stats.failed(0);
        throw err;
      }
      metrics.inflight(1);
      this.#schedule();
    });
  }

  /** Runs what is queued without waiting for batch-mates, then releases the model's sessions. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#schedule();
    if (this.#running > 0 || this.#batcher.length > 0) {
      await new Promise<void>((resolve) => (this.#drained = resolve));
    }
    await this.#pool.unload(this.#key);
  }

  #expire(): void {
    for (const request of this.#batcher.expire(Date.now())) {
      this.#metrics.error('timeout');
      this.#stats.failed(performance.now() - request.queuedAt);
      request.reject(
        new BatchInferError(
          ErrorCodes.TIMEOUT,
          `Request for model ${show(this.#labels.model_name)} passed its deadline while queued`,
        ),
      );
    }
  }

  /**
   * Runs in flight at most: one per worker; on the server's thread (worker-pool.ts `inThread`), one batch at a
   * time, so that the requests read while it waits for the event loop's check phase join the next one — or,
   * without batching, no limit, so that every request read in one turn of the event loop runs in that turn.
   */
  #concurrency(): number {
    if (!this.#pool.inThread(this.#key)) return this.#pool.size;
    return this.#batches ? 1 : Number.POSITIVE_INFINITY;
  }

  /** Starts every batch that is due while a worker is free, or sets a timer for the next one. */
  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running < this.#concurrency()) {
      this.#expire();
      // Closing, or nothing of this model in flight: nothing to wait for.
      const due =
        this.#closing || this.#running === 0
          ? this.#batcher.length > 0
            ? 0
            : undefined
          : this.#batcher.due(performance.now());
      if (due === undefined) break;
      if (due > 0) {
        this.#timer = setTimeout(() => this.#schedule(), due);
        break;
      }
      const batch = this.#batcher.take();
      const now = performance.now();
      for (const r of batch) {
        this.#metrics.queueSeconds((now - r.queuedAt) / 1000);
        r.startedAt = now;
      }
      this.#running++;
      void this.#execute(batch).finally(() => {
        this.#running--;
        this.#schedule();
      });
    }
    if (this.#closing && this.#running === 0 && this.#batcher.length === 0) this.#drained?.();
  }

  async #execute(batch: Request[]): Promise<void> {
    const [only] = batch;
    if (only !== undefined && batch.length === 1) {
      await this.#runAlone(only);
      return;
    }
    const rows = batch.map((r) => r.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    const outputNames = [...new Set(batch.flatMap((r) => r.outputNames))];
    let parts: Tensor[][];
    const t0 = performance.now();
    let t1: number;
    let t2: number;
    try {
      const inputs = concatInputs(batch.map((r) => r.inputs));
      t1 = performance.now();
      const outputs = await this.#run(inputs, outputNames, total);
      t2 = performance.now();
      parts = splitOutputs(
        outputs,
        rows,
        batch.map((r) => r.outputNames),
      );
    } catch {
      // The batch failed as a whole; run each request alone so only the bad ones fail.
      await Promise.all(batch.map((r) => this.#runAlone(r)));
      return;
    }
    const t3 = performance.now();
    this.#stats.executed(total, t1 - t0, t2 - t1, t3 - t2);
    for (const [i, r] of batch.entries()) {
      this.#stats.succeeded(r.rows, r.startedAt - r.queuedAt, t3 - r.queuedAt, t1 - t0, t2 - t1, t3 - t2);
      r.resolve(parts[i] ?? []);
    }
  }

  async #runAlone(request: Request): Promise<void> {
    const t0 = performance.now();
    try {
      const inputs = copyTensors(request.inputs);
      const t1 = performance.now();
      const outputs = await this.#run(inputs, [...request.outputNames], request.rows);
      const t2 = performance.now();
      this.#stats.executed(request.rows, t1 - t0, t2 - t1, 0);
      this.#stats.succeeded(
        request.rows,
        request.startedAt - request.queuedAt,
        t2 - request.queuedAt,
        t1 - t0,
        t2 - t1,
        0,
      );
      request.resolve(outputs);
    } catch (err) {
      this.#stats.failed(performance.now() - request.queuedAt);
      request.reject(err);
    }
  }

  /**
   * One model run; `inputs` must own their buffers, which move to the worker. Its duration is taken here, so it
   * includes the hand-off to the worker and, when other models keep every worker busy, the wait for one.
   */
  async #run(inputs: Tensor[], outputNames: string[], rows: number): Promise<Tensor[]> {
    this.#metrics.batchRows(rows);
    const started = performance.now();
    try {
      return await this.#pool.run(this.#key, inputs, outputNames);
    } finally {
      this.#metrics.runSeconds((performance.now() - started) / 1000);
    }
  }
}
