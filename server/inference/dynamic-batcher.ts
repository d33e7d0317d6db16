/**
 * The queue of one model and the decision Triton's dynamic batcher makes (research/serving.md §2.2): send a
 * batch as soon as `maxBatchSize` rows can be formed, otherwise once the oldest request has waited
 * `maxQueueDelayMs`. A batch takes queued requests in arrival order that share the oldest one's batch key, up to
 * `maxBatchSize` rows; a request larger than that runs alone. Pure logic: the caller passes the clock in and
 * owns timers and execution.
 */
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';

export interface BatcherOptions {
  /** Rows per batch at most; 0 runs every request alone. */
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** Requests queued at most; more are refused with BI_ERR_OVERLOADED. */
  maxQueueSize: number;
  /** Model named in errors. */
  model: string;
}

export interface Queued {
  /** Requests with equal keys can share a run (see batchKey). */
  key: string;
  rows: number;
  /** When it was queued, on the caller's monotonic clock (ms). */
  queuedAt: number;
  /** Epoch ms after which the request is not worth computing. */
  deadline: number | undefined;
}

export class DynamicBatcher<T extends Queued> {
  readonly #options: BatcherOptions;
  #queue: T[] = [];

  constructor(options: BatcherOptions) {
    this.#options = options;
  }

  get length(): number {
    return this.#queue.length;
  }

  /** Queues a request, or throws BI_ERR_OVERLOADED when the queue is full. */
  push(request: T): void {
    if (this.#queue.length >= this.#options.maxQueueSize) {
      throw new BatchInferError(
        ErrorCodes.OVERLOADED,
        `The queue of model ${show(this.#options.model)} is full (${this.#options.maxQueueSize} requests)`,
        { context: { model: this.#options.model } },
      );
    }
    this.#queue.push(request);
  }

  /** Removes and returns the requests whose deadline is at or before `epochNow`. */
  expire(epochNow: number): T[] {
    // Called for every request: look before allocating, since nearly always nothing has expired.
    if (!this.#queue.some((r) => r.deadline !== undefined && r.deadline <= epochNow)) return [];
    const kept: T[] = [];
    const expired: T[] = [];
    for (const r of this.#queue)
      (r.deadline !== undefined && r.deadline <= epochNow ? expired : kept).push(r);
    this.#queue = kept;
    return expired;
  }

  /** Milliseconds until the next batch is due (0: now), or undefined when nothing is queued. */
  due(now: number): number | undefined {
    const [oldest] = this.#queue;
    if (oldest === undefined) return undefined;
    const { maxBatchSize, maxQueueDelayMs } = this.#options;
    if (maxBatchSize === 0) return 0;
    let rows = 0;
    for (const r of this.#queue) if (r.key === oldest.key) rows += r.rows;
    if (rows >= maxBatchSize) return 0;
    return Math.max(0, oldest.queuedAt + maxQueueDelayMs - now);
  }

  /** Removes and returns the next batch (at least one request if any is queued). */
  take(): T[] {
    const [oldest] = this.#queue;
    if (oldest === undefined) return [];
    const batch = [oldest];
    let rows = oldest.rows;
    if (this.#options.maxBatchSize > 0) {
      for (const r of this.#queue.slice(1)) {
        if (r.key !== oldest.key || rows + r.rows > this.#options.maxBatchSize) continue;
        batch.push(r);
        rows += r.rows;
        if (rows === this.#options.maxBatchSize) break;
      }
    }
    const taken = new Set(batch);
    this.#queue = this.#queue.filter((r) => !taken.has(r));
    return batch;
  }
}
