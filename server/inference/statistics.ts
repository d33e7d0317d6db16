/**
 * Per model version counts and durations for Triton's statistics extension
 * (triton-inference-server/server docs/protocol/extension_statistics.md), kept by the engine as requests settle.
 *
 * As in Triton, `inference_stats.*` count requests: `success`, `queue` and the three `compute_*` grow by one
 * per successful request (a request that shared a run with others is charged the whole run's durations), `fail`
 * by one per failed request; `batch_stats` count model runs per batch size (rows), and `execution_count` all
 * runs. `inference_count` is rows. Here `compute_input` is the time to gather the requests' inputs into the
 * run's tensors, `compute_infer` the run in the worker pool (including the hand-off and any wait for a worker),
 * `compute_output` the time to split the run's outputs between its requests.
 *
 * The statistics of a model version live as long as the server, across reloads, as Triton's "since Triton
 * started": every engine of that version adds to the same object (StatisticsRegistry). The hot path adds
 * numbers to fields; only a batch size seen for the first time allocates.
 */

/** A count and a total duration, in Triton's JSON form (`ns` in nanoseconds). */
export interface DurationStat {
  count: number;
  ns: number;
}

/** One model version's statistics as `GET /v2/models/…/stats` lists them. */
export interface ModelStat {
  name: string;
  version: string;
  /** Epoch milliseconds of the last request that settled, 0 before any. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<
    'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output',
    DurationStat
  >;
  batch_stats: {
    batch_size: number;
    compute_input: DurationStat;
    compute_infer: DurationStat;
    compute_output: DurationStat;
  }[];
}

/** A count and a total in milliseconds (performance.now() differences), turned into nanoseconds when read. */
class Sum {
  count = 0;
  ms = 0;

  add(ms: number): void {
    this.count++;
    this.ms += ms;
  }

  toJSON(): DurationStat {
    return { count: this.count, ns: Math.round(this.ms * 1e6) };
  }
}

/** Runs of one batch size. */
class BatchSums {
  readonly input = new Sum();
  readonly infer = new Sum();
  readonly output = new Sum();
}

export class ModelStatistics {
  readonly name: string;
  readonly version: number;
  #lastInference = 0;
  #inferenceCount = 0;
  #executionCount = 0;
  readonly #success = new Sum();
  readonly #fail = new Sum();
  readonly #queue = new Sum();
  readonly #input = new Sum();
  readonly #infer = new Sum();
  readonly #output = new Sum();
  readonly #batches = new Map<number, BatchSums>();

  constructor(name: string, version: number) {
    this.name = name;
    this.version = version;
  }

  /** A model run of `rows` rows that succeeded, with its three phases in milliseconds. */
  executed(rows: number, inputMs: number, inferMs: number, outputMs: number): void {
    this.#executionCount++;
    let batch = this.#batches.get(rows);
    if (batch === undefined) this.#batches.set(rows, (batch = new BatchSums()));
    batch.input.add(inputMs);
    batch.infer.add(inferMs);
    batch.output.add(outputMs);
  }

  /**
   * A request of `rows` rows answered: it waited `queueMs` in the queue and `totalMs` from being queued to its
   * answer, in a run whose phases took `inputMs`, `inferMs` and `outputMs`.
   */
  succeeded(
    rows: number,
    queueMs: number,
    totalMs: number,
    inputMs: number,
    inferMs: number,
    outputMs: number,
  ): void {
    this.#inferenceCount += rows;
    this.#success.add(totalMs);
    this.#queue.add(queueMs);
    this.#input.add(inputMs);
    this.#infer.add(inferMs);
    this.#output.add(outputMs);
    this.#lastInference = Date.now();
  }

  /** A request that failed (refused, expired, invalid or failed in its run), `totalMs` after it arrived. */
  failed(totalMs: number): void {
    this.#fail.add(totalMs);
    this.#lastInference = Date.now();
  }

  toJSON(): ModelStat {
    return {
      name: this.name,
      version: String(this.version),
      last_inference: this.#lastInference,
      inference_count: this.#inferenceCount,
      execution_count: this.#executionCount,
      inference_stats: {
        success: this.#success.toJSON(),
        fail: this.#fail.toJSON(),
        queue: this.#queue.toJSON(),
        compute_input: this.#input.toJSON(),
        compute_infer: this.#infer.toJSON(),
        compute_output: this.#output.toJSON(),
      },
      batch_stats: [...this.#batches]
        .sort(([a], [b]) => a - b)
        .map(([size, sums]) => ({
          batch_size: size,
          compute_input: sums.input.toJSON(),
          compute_infer: sums.infer.toJSON(),
          compute_output: sums.output.toJSON(),
        })),
    };
  }
}

/** Every model version's statistics, one object per name and version for the server's lifetime. */
export class StatisticsRegistry {
  readonly #models = new Map<string, Map<number, ModelStatistics>>();

  /** The statistics of a model version, made on first use. */
  of(name: string, version: number): ModelStatistics {
    let versions = this.#models.get(name);
    if (versions === undefined) this.#models.set(name, (versions = new Map<number, ModelStatistics>()));
    let stats = versions.get(version);
    if (stats === undefined) versions.set(version, (stats = new ModelStatistics(name, version)));
    return stats;
  }
}
