/**
 * Runs of cheap models on the server's own thread (issue #18). Handing a run to an inference worker costs the
 * event loop a structured clone and a message each way, and wakes a thread twice; for a model whose run takes
 * a few microseconds (the bundled `weather`: ~10 µs for one row, ~15 µs for 256) that costs more than the run,
 * and on a machine with few cores the woken threads take turns with the one that answers HTTP. So a model whose
 * one-row run, timed here when it loads, takes under `maxRunUs` runs here instead, as the bare server in
 * benchmarks/ runs it. Such a run still blocks the event loop for no longer than a request's JSON parse.
 *
 * A model whose runs here get slower than 4 × `maxRunUs` (the median of a window of 32 runs, so that a garbage
 * collection now and then does not count: large dynamic batches of a model close to the bound) goes back to the
 * workers for good. onnxruntime is imported on this thread only when a model is
 * probed.
 */
import { performance } from 'node:perf_hooks';
import type { InferenceSession } from 'onnxruntime-node';
import { BatchInferError, ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import type { Tensor } from './types.js';

/** Runs of the probe: the first few warm up, the fastest of the others counts (noise only adds time). */
const WARM_UP_RUNS = 5;
const PROBE_RUNS = 10;
/** Runs per window whose median run time decides whether a model goes back to the workers. */
const WINDOW = 32;

interface Local {
  session: InferenceSession;
  /** This thread's latest run times, µs (at most WINDOW). */
  times: number[];
}

type Tensors = typeof import('../../lib/onnx/tensors.js');

export class MainThreadRunner {
  readonly maxRunUs: number;
  readonly #local = new Map<string, Local>();
  #tensors: Tensors | undefined;

  constructor(maxRunUs: number) {
    this.maxRunUs = maxRunUs;
  }

  /** True while `key`'s runs are made on this thread. */
  has(key: string): boolean {
    return this.#local.has(key);
  }

  /**
   * Makes a session of `onnx` on this thread and times runs of `inputs` (one row); keeps it for `key` when the
   * fastest is under `maxRunUs` (on a busy machine, others' work only makes runs look slower). Any failure (a model that refuses zeros) leaves the model to
   * the workers.
   */
  async probe(
    key: string,
    onnx: Uint8Array,
    inputs: readonly Tensor[],
    outputNames: string[],
  ): Promise<boolean> {
    let session: InferenceSession | undefined;
    try {
      const ort = await import('onnxruntime-node');
      this.#tensors ??= await import('../../lib/onnx/tensors.js');
      session = await ort.InferenceSession.create(onnx, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      let fastest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < WARM_UP_RUNS + PROBE_RUNS; i++) {
        const us = await this.#timed(session, inputs, outputNames);
        if (i >= WARM_UP_RUNS) fastest = Math.min(fastest, us);
      }
      if (fastest < this.maxRunUs) {
        await this.#local.get(key)?.session.release();
        this.#local.set(key, { session, times: [] });
        return true;
      }
    } catch {
      // Left to the workers, which report their own errors.
    }
    await session?.release().catch(() => undefined);
    return false;
  }

  /** Runs `key`'s model here (has(key) must be true). */
  async run(key: string, inputs: readonly Tensor[], outputNames: string[]): Promise<Tensor[]> {
    const local = this.#local.get(key);
    if (local === undefined || this.#tensors === undefined) throw new Error(`${key} is not run here`);
    let outputs: Tensor[] | undefined;
    let us: number;
    try {
      us = await this.#timed(local.session, inputs, outputNames, (o) => (outputs = o));
    } catch (cause) {
      // As a worker reports it (worker.ts).
      if (isBatchInferError(cause)) throw cause;
      throw new BatchInferError(ErrorCodes.INFERENCE, 'onnxruntime failed to run the model', { cause });
    }
    local.times.push(us);
    if (local.times.length === WINDOW) {
      const median = local.times.sort((a, b) => a - b)[WINDOW >> 1] ?? 0;
      local.times.length = 0;
      if (median > 4 * this.maxRunUs) await this.release(key);
    }
    return outputs ?? [];
  }

  /** Releases `key`'s session here; its runs go to the workers from now on. */
  async release(key: string): Promise<void> {
    const local = this.#local.get(key);
    this.#local.delete(key);
    await local?.session.release();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#local.keys()].map((key) => this.release(key)));
  }

  /**
   * One run, and how long onnxruntime computed, µs. onnxruntime-node runs a session in a `setImmediate`
   * callback; the one set just before it starts the clock, so the time waited for the event loop's check phase
   * is not counted.
   */
  async #timed(
    session: InferenceSession,
    inputs: readonly Tensor[],
    outputNames: string[],
    keep?: (outputs: Tensor[]) => void,
  ): Promise<number> {
    const tensors = this.#tensors as Tensors;
    let started = performance.now();
    setImmediate(() => (started = performance.now()));
    const result = await session.run(tensors.ortFeeds(inputs), outputNames);
    const us = (performance.now() - started) * 1000;
    keep?.(tensors.outputTensors(result, outputNames));
    return us;
  }
}
