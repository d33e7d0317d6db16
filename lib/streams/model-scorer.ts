/**
 * ModelScorer: batches → scored batches, with up to `concurrency` requests in flight and results emitted in
 * input order (STYLE.md §5). `_transform` accepts a new batch at once while fewer than `concurrency` are in
 * flight; otherwise it waits for the oldest to finish and pushes it, so memory is bounded by `concurrency`
 * batches whatever the speed of the source or sink. A batch the server refuses as bad input (400/422) is
 * bisected to find the rows it refuses (lib/core/bisect.ts); they go to `onReject` when their batch is emitted,
 * so rejects too come out in input order.
 */
import { Transform, type TransformCallback } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../errors.js';
import { scoreBisecting } from '../core/bisect.js';
import { integerOption, refuseUnknownKeys, signalOption } from '../core/options.js';
import { isBadInputStatus } from '../core/retry.js';
import { float32Data } from '../core/output-values.js';
import { selectRows } from '../core/tensor.js';
import type { BatchScorer } from '../adapters/types.js';
import type { Batch, RejectedRow, ScoredBatch } from '../types.js';

export interface ModelScorerOptions {
  /** The adapter that calls the model (HTTP codec + transport, or the in-process scorer). Required. */
  scorer: BatchScorer;
  /**
   * A classifier's probability output: each scored batch's `probabilities` are its values as float32.
   * @default none (`probabilities` is empty)
   */
  probabilities?: string;
  /**
   * Requests in flight at most.
   * @default 2
   */
  concurrency?: number;
  /**
   * Called, in input order, for each row the server refuses as bad input (HTTP 400/422).
   * @default refused rows are only counted
   */
  onReject?: (row: RejectedRow) => void;
  /** Aborting the signal cancels in-flight requests and destroys the stream. */
  signal?: AbortSignal;
}

/**
 * Requests in flight by default: among the fastest of 1, 2, 4 and 8 against a 2-worker server on the same 2
 * cores (benchmarks/README.md); a fleet of replicas wants more (docs/orchestration.md).
 */
export const DEFAULT_CONCURRENCY = 2;

type Settled = { ok: true; batch: ScoredBatch; refused: RejectedRow[] } | { ok: false; error: Error };

/** The server's "this input is bad" answer: worth bisecting, unlike a failure of the server or the network. */
function isRefusal(error: unknown): boolean {
  return (
    isBatchInferError(error, ErrorCodes.HTTP_STATUS) &&
    error.context.status !== undefined &&
    isBadInputStatus(error.context.status)
  );
}

const NO_PROBABILITIES = new Float32Array(0);

async function scoreBatch(
  scorer: BatchScorer,
  batch: Batch,
  probabilities: string | undefined,
  signal: AbortSignal,
): Promise<Settled> {
  const n = batch.rows.length;
  const result = await scoreBisecting((inputs) => scorer.score(inputs, signal), batch.inputs, isRefusal);
  // Rows that pass the Preprocessor are rarely all bad at once; a server refusing every one of them alone is
  // refusing the request (a contract mismatch, say), and rejecting the whole input row by row would hide that.
  if (n > 1 && result.refused.length === n) {
    const first = result.refused[0]?.error;
    throw new BatchInferError(
      ErrorCodes.HTTP_STATUS,
      `The model server refused each of the ${n} rows of batch ${batch.index} on its own: ${first?.message ?? ''}`,
      { cause: first, context: isBatchInferError(first) ? first.context : {} },
    );
  }
  const refused = result.refused.map(({ index, error }) => {
    const row = batch.rows[index] as Batch['rows'][number];
    return {
      line: row.line,
      values: row.values,
      error: error.message,
      ...(row.row === undefined ? {} : { row: row.row }),
      ...(row.file === undefined ? {} : { file: row.file }),
    };
  });
  const { outputs } = result;
  const probs = probabilities === undefined ? undefined : outputs.find((t) => t.name === probabilities);
  const scored = { outputs, probabilities: probs === undefined ? NO_PROBABILITIES : float32Data(probs) };
  if (refused.length === 0) return { ok: true, batch: { ...batch, ...scored }, refused };
  const rows = result.kept.map((i) => batch.rows[i] as Batch['rows'][number]);
  return {
    ok: true,
    batch: { index: batch.index, rows, inputs: selectRows(batch.inputs, result.kept), ...scored },
    refused,
  };
}

export class ModelScorer extends Transform {
  readonly #scorer: BatchScorer;
  readonly #probabilities: string | undefined;
  readonly #onReject: (row: RejectedRow) => void;
  readonly #concurrency: number;
  readonly #limit: LimitFunction;
  readonly #inflight: Promise<Settled>[] = [];
  readonly #abort = new AbortController();
  /** Batches and rows scored so far, and rows the server refused. */
  readonly counts = { batches: 0, rows: 0, rejected: 0 };

  constructor(options: ModelScorerOptions) {
    refuseUnknownKeys('ModelScorer', options, [
      'scorer',
      'probabilities',
      'concurrency',
      'onReject',
      'signal',
    ]);
    const concurrency = integerOption('concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1, 1024);
    const signal = signalOption('signal', options.signal);
    super({
      objectMode: true,
      writableHighWaterMark: 1,
      readableHighWaterMark: 1,
      ...(signal ? { signal } : {}),
    });
    this.#scorer = options.scorer;
    this.#probabilities = options.probabilities;
    this.#onReject = options.onReject ?? (() => undefined);
    this.#concurrency = concurrency;
    this.#limit = pLimit(concurrency);
  }

  override _transform(batch: Batch, _encoding: BufferEncoding, callback: TransformCallback): void {
    const signal = this.#abort.signal;
    this.#inflight.push(
      this.#limit(() => scoreBatch(this.#scorer, batch, this.#probabilities, signal)).catch(
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
    this.counts.rejected += settled.refused.length;
    for (const row of settled.refused) this.#onReject(row);
    this.push(settled.batch);
  }
}
