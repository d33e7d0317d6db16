/**
 * ModelScorer: batches → scored batches, with up to `concurrency` requests in flight and results emitted in
 * input order (STYLE.md §5). `_transform` accepts a new batch at once while fewer than `concurrency` are in
 * flight; otherwise it waits for the oldest to finish and pushes it, so memory is bounded by `concurrency`
 * batches whatever the speed of the source or sink.
 */
import { Transform, type TransformCallback } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import type { BatchScorer } from '../adapters/types.js';
import type { Batch, ScoredBatch } from '../types.js';

export interface ModelScorerOptions {
  /** The adapter that calls the model (HTTP codec + transport, or the in-process scorer). Required. */
  scorer: BatchScorer;
  /**
   * Requests in flight at most.
   * @default 4
   */
  concurrency?: number;
  /** Aborting the signal cancels in-flight requests and destroys the stream. */
  signal?: AbortSignal;
}

export const DEFAULT_CONCURRENCY = 4;

type Settled = { ok: true; batch: ScoredBatch } | { ok: false; error: Error };

export class ModelScorer extends Transform {
  readonly #scorer: BatchScorer;
  readonly #concurrency: number;
  readonly #limit: LimitFunction;
  readonly #inflight: Promise<Settled>[] = [];
  readonly #abort = new AbortController();
  /** Batches and rows scored so far. */
  readonly counts = { batches: 0, rows: 0 };

  constructor(options: ModelScorerOptions) {
    refuseUnknownKeys('ModelScorer', options, ['scorer', 'concurrency', 'signal']);
    const concurrency = integerOption('concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1, 1024);
    const signal = signalOption('signal', options.signal);
    super({
      objectMode: true,
      writableHighWaterMark: 1,
      readableHighWaterMark: 1,
      ...(signal ? { signal } : {}),
    });
    this.#scorer = options.scorer;
    this.#concurrency = concurrency;
    this.#limit = pLimit(concurrency);
  }

  override _transform(batch: Batch, _encoding: BufferEncoding, callback: TransformCallback): void {
    const signal = this.#abort.signal;
    this.#inflight.push(
      this.#limit(() => this.#scorer.score(batch.tensor, batch.rows.length, signal)).then(
        (probabilities): Settled => ({ ok: true, batch: { ...batch, probabilities } }),
        (error: unknown): Settled => ({
          ok: false,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
      ),
    );
    if (this.#inflight.length < this.#concurrency) {
      callback();
      return;
    }
    this.#emitOldest().then(() => {
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    const drain = async (): Promise<void> => {
      while (this.#inflight.length > 0) await this.#emitOldest();
    };
    drain().then(() => {
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#abort.abort(error ?? undefined);
    callback(error);
  }

  async #emitOldest(): Promise<void> {
    const settled = await (this.#inflight.shift() as Promise<Settled>);
    if (!settled.ok) throw settled.error;
    this.counts.batches++;
    this.counts.rows += settled.batch.rows.length;
    this.push(settled.batch);
  }
}
