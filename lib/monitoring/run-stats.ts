/**
 * What a run measures about itself while it runs, for the run record, metrics.prom and the history: how long
 * each stage took, every HTTP request's latency and outcome, retries, and the drift and data-quality counts.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { performance } from 'node:perf_hooks';
import type { AttemptEvent } from '../adapters/http-scorer.js';
import type { BatchScorer } from '../adapters/types.js';
import { DriftAccumulator } from '../core/drift.js';
import type { ModelContract } from '../core/model-contract.js';
import { quantile } from '../core/profile.js';

/** The timed stages of a run, in pipeline order. */
export const STAGES = ['read', 'preprocess', 'infer', 'write'] as const;
export type Stage = (typeof STAGES)[number];

export interface RequestSample {
  outcome: AttemptEvent['outcome'];
  seconds: number;
}

export interface LatencySummary {
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export class RunStats {
  readonly startedAt = new Date();
  readonly #started = performance.now();
  readonly requests: RequestSample[] = [];
  retries = 0;
  /** Stage times in seconds; a stage the run never reached stays 0. */
  readonly stages: Record<Stage, number> = { read: 0, preprocess: 0, infer: 0, write: 0 };
  drift: DriftAccumulator | undefined;
  #inflight = 0;
  #inferSince = 0;

  /** Seconds since the run started. */
  elapsed(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /**
   * Starts drift counting against the contract's reference profile; a model without one is not profiled. The
   * profile must describe the features the run reads (`monitored`, in order): a profile made for other columns
   * would compare the wrong values, so it is refused, naming both lists.
   */
  profile(contract: ModelContract, monitored: readonly string[]): void {
    const { reference } = contract;
    if (reference === undefined) return;
    const profiled = reference.features.map((f) => f.name);
    if (profiled.join('\n') !== monitored.join('\n'))
      throw new BatchInferError(
        ErrorCodes.MODEL_CONTRACT,
        `The reference profile of model ${show(contract.name)} describes ${profiled.join(', ') || 'no features'}, but the run reads ${monitored.join(', ') || 'none'}: recompute it with \`batch-infer profile\` (with the same --features)`,
        { context: { model: contract.name } },
      );
    this.drift = new DriftAccumulator(reference, contract.labels);
  }

  readonly onAttempt = (event: AttemptEvent): void => {
    this.requests.push({ outcome: event.outcome, seconds: event.durationMs / 1000 });
  };

  readonly onRetry = (): void => {
    this.retries++;
  };

  /**
   * The scorer, timed: `infer` is the wall time during which at least one model call was in flight, so
   * concurrent calls are not counted twice and the stage can be compared with the run's duration.
   */
  timed(scorer: BatchScorer): BatchScorer {
    return {
      score: async (inputs, signal) => {
        if (this.#inflight++ === 0) this.#inferSince = performance.now();
        try {
          return await scorer.score(inputs, signal);
        } finally {
          if (--this.#inflight === 0) this.stages.infer += (performance.now() - this.#inferSince) / 1000;
        }
      },
      close: () => scorer.close(),
    };
  }

  latency(): LatencySummary {
    const sorted = Float64Array.from(this.requests, (r) => r.seconds * 1000).sort();
    const at = (q: number): number | null =>
      sorted.length === 0 ? null : Math.round(quantile(sorted, q) * 100) / 100;
    return { count: sorted.length, p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99) };
  }
}
