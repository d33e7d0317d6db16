/**
 * A pool of inference worker threads shared by every model of a server. Each worker holds a session of every
 * loaded model and runs one request at a time, so `size` runs proceed in parallel and the event loop only
 * passes messages. Runs wait in one FIFO queue until a worker that has their model is free.
 *
 * A worker that dies fails the work it held with BI_ERR_INFERENCE (never leaves it hanging) and is replaced;
 * the replacement loads every model from the bytes kept here, so it serves exactly what the others serve even
 * if the files on disk changed since. `close()` lets queued runs finish, then terminates the threads.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { BatchInferError, ErrorCodes } from '../../lib/errors.js';
import { MainThreadRunner } from './main-thread.js';
import type { Tensor } from './types.js';
import {
  ownedBuffers,
  type SerializedError,
  type WorkerReply,
  type WorkerRequest,
  type WorkerSettings,
} from './worker-protocol.js';

export interface WorkerPoolOptions {
  /** Worker threads. */
  size: number;
  /** onnxruntime intra-op threads per worker. */
  intraOpThreads: number;
  logger?: Logger;
  /** The worker script; tests substitute one that can be made to crash. @default ./worker.js beside this file */
  workerUrl?: URL;
  /**
   * Models whose one-row run takes less than this many µs (timed on the server's thread when they load) run
   * there rather than in a worker (main-thread.ts); 0: every model runs in the workers. @default 0
   */
  inThreadRunUs?: number;
}

/** What a worker needs to load a model. */
export interface PoolModel {
  onnx: Uint8Array;
  inputNames: string[];
  outputNames: string[];
  /** One row of inputs to time the model with, for a run on the server's thread; none: workers only. */
  probe?: Tensor[];
}

interface Pending {
  resolve(outputs: Tensor[] | undefined): void;
  reject(err: Error): void;
}

interface PoolWorker {
  thread: Worker;
  /** The worker has imported onnxruntime and said so. */
  started: boolean;
  busy: boolean;
  loaded: Set<string>;
  loading: Set<string>;
  pending: Map<number, Pending>;
}

interface RunTask {
  key: string;
  inputs: Tensor[];
  outputNames: string[];
  resolve(outputs: Tensor[]): void;
  reject(err: Error): void;
}

/** Compiled, this file is worker-pool.js beside worker.js; run from source by a TypeScript loader, both are .ts. */
function defaultWorkerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
}

function startThread(script: URL, settings: WorkerSettings): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData: settings });
  // Worker threads inherit process.execArgv, so tap's `--import` TypeScript loader reaches them, but tsx
  // registers its hooks in the main thread only on Node < 22.22: register it in the worker before the import.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

function revive(error: SerializedError): BatchInferError {
  const message = error.cause === undefined ? error.message : `${error.message}: ${error.cause}`;
  return new BatchInferError(error.code, message);
}

export class WorkerPool {
  readonly size: number;
  readonly #settings: WorkerSettings;
  readonly #script: URL;
  readonly #logger: Logger | undefined;
  readonly #workers = new Set<PoolWorker>();
  readonly #models = new Map<string, PoolModel>();
  #queue: RunTask[] = [];
  #nextId = 1;
  #closing = false;
  /** Why the pool cannot run anything: its workers could not start. */
  #broken: BatchInferError | undefined;
  #idle: (() => void) | undefined;
  readonly #main: MainThreadRunner | undefined;

  constructor(options: WorkerPoolOptions) {
    this.size = options.size;
    const inThreadRunUs = options.inThreadRunUs ?? 0;
    this.#main = inThreadRunUs > 0 ? new MainThreadRunner(inThreadRunUs) : undefined;
    this.#settings = { intraOpThreads: options.intraOpThreads };
    this.#script = options.workerUrl ?? defaultWorkerUrl();
    this.#logger = options.logger;
    for (let i = 0; i < options.size; i++) this.#spawn();
  }

  /** Loads a model into every worker; on any failure it is unloaded from all and the error rethrown. */
  async load(key: string, model: PoolModel): Promise<void> {
    this.#assertUsable();
    this.#models.set(key, model);
    const results = await Promise.allSettled([...this.#workers].map((w) => this.#loadOn(w, key, model)));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      await this.unload(key);
      throw failure.reason;
    }
    if (this.#main !== undefined && model.probe !== undefined)
      await this.#main.probe(key, model.onnx, model.probe, model.outputNames);
  }

  /** True while `key`'s runs are made on the server's thread (main-thread.ts), not in the workers. */
  inThread(key: string): boolean {
    return this.#main?.has(key) === true;
  }

  /** Releases a model's sessions. Its runs must be finished: the engine drains before it unloads. */
  async unload(key: string): Promise<void> {
    this.#models.delete(key);
    await this.#main?.release(key);
    await Promise.allSettled(
      [...this.#workers].map((w) => {
        w.loaded.delete(key);
        return this.#send(w, { type: 'unload', id: this.#nextId++, key });
      }),
    );
    this.#dispatch();
  }

  /**
   * Runs a loaded model on the server's thread when its runs are cheaper than a worker's hand-off
   * (main-thread.ts), else on the first free worker. The inputs' buffers are transferred to the worker, so the
   * caller must hand over arrays it no longer needs.
   */
  run(key: string, inputs: Tensor[], outputNames: string[]): Promise<Tensor[]> {
    if (!this.#closing && this.#main?.has(key) === true) return this.#main.run(key, inputs, outputNames);
    return new Promise((resolve, reject) => {
      if (this.#closing) {
        reject(new BatchInferError(ErrorCodes.INFERENCE, 'The inference worker pool is closed'));
        return;
      }
      this.#queue.push({ key, inputs, outputNames, resolve, reject });
      this.#dispatch();
    });
  }

  /** Lets queued runs finish, then stops every worker. */
  async close(): Promise<void> {
    this.#closing = true;
    if (!this.#isIdle()) await new Promise<void>((resolve) => (this.#idle = resolve));
    const workers = [...this.#workers];
    this.#workers.clear();
    await Promise.all([...workers.map((w) => w.thread.terminate()), this.#main?.close()]);
  }

  #assertUsable(): void {
    if (this.#broken !== undefined) throw this.#broken;
    if (this.#closing) throw new BatchInferError(ErrorCodes.INFERENCE, 'The inference worker pool is closed');
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && [...this.#workers].every((w) => !w.busy);
  }

  #spawn(): void {
    const worker: PoolWorker = {
      thread: startThread(this.#script, this.#settings),
      started: false,
      busy: false,
      loaded: new Set(),
      loading: new Set(),
      pending: new Map(),
    };
    // An idle worker must not keep the process alive; one with work pending must (see #send).
    worker.thread.unref();
    worker.thread.on('message', (reply: WorkerReply) => this.#onReply(worker, reply));
    worker.thread.on('error', (err) => this.#logger?.error({ err }, 'inference worker failed'));
    worker.thread.on('exit', (code) => this.#onExit(worker, code));
    this.#workers.add(worker);
    for (const [key, model] of this.#models) {
      this.#loadOn(worker, key, model).catch((err: unknown) => {
        this.#logger?.error({ err, model: key }, 'replacement inference worker could not load a model');
      });
    }
  }

  async #loadOn(worker: PoolWorker, key: string, model: PoolModel): Promise<void> {
    worker.loading.add(key);
    try {
      await this.#send(worker, { type: 'load', id: this.#nextId++, key, ...model });
    } finally {
      worker.loading.delete(key);
    }
    if (this.#models.has(key)) worker.loaded.add(key);
    // Unloaded while this worker was still loading it: release the session it just made.
    else void this.#send(worker, { type: 'unload', id: this.#nextId++, key });
    this.#dispatch();
  }

  #send(
    worker: PoolWorker,
    request: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<Tensor[] | undefined> {
    return new Promise((resolve, reject) => {
      worker.pending.set(request.id, { resolve, reject });
      worker.thread.ref();
      worker.thread.postMessage(request, transfer);
    });
  }

  #onReply(worker: PoolWorker, reply: WorkerReply): void {
    if (reply.type === 'ready') {
      worker.started = true;
      this.#dispatch();
      return;
    }
    const pending = worker.pending.get(reply.id);
    worker.pending.delete(reply.id);
    if (worker.pending.size === 0) worker.thread.unref();
    if (reply.type === 'done') pending?.resolve(reply.outputs);
    else pending?.reject(revive(reply.error));
  }

  #onExit(worker: PoolWorker, code: number): void {
    this.#workers.delete(worker);
    const lost = new BatchInferError(ErrorCodes.INFERENCE, `Inference worker stopped (exit code ${code})`);
    for (const pending of worker.pending.values()) pending.reject(lost);
    worker.pending.clear();
    if (this.#closing) return;
    this.#logger?.error({ code }, 'inference worker stopped');
    if (worker.started) this.#spawn();
    else if (this.#workers.size === 0) {
      // Workers that die before they start would die again: report it instead of respawning forever.
      this.#broken = new BatchInferError(ErrorCodes.INFERENCE, 'Inference workers cannot start');
    }
    this.#dispatch();
  }

  /** Gives free workers the oldest runs they can take; fails runs that no worker can ever take. */
  #dispatch(): void {
    for (const worker of this.#workers) {
      if (!worker.started || worker.busy) continue;
      const index = this.#queue.findIndex((t) => worker.loaded.has(t.key));
      const task = this.#queue[index];
      if (task === undefined) continue;
      this.#queue.splice(index, 1);
      worker.busy = true;
      const request = {
        type: 'run',
        id: this.#nextId++,
        key: task.key,
        inputs: task.inputs,
        outputNames: task.outputNames,
      } as const;
      void this.#send(worker, request, ownedBuffers(task.inputs))
        .then(
          (outputs) => task.resolve(outputs ?? []),
          (err: unknown) => task.reject(err as Error),
        )
        .finally(() => {
          worker.busy = false;
          this.#dispatch();
        });
    }
    this.#queue = this.#queue.filter((task) => {
      if (this.#canRun(task.key)) return true;
      task.reject(
        this.#broken ??
          new BatchInferError(
            ErrorCodes.INFERENCE,
            `Model ${task.key} is not loaded in any inference worker`,
          ),
      );
      return false;
    });
    if (this.#idle !== undefined && this.#isIdle()) this.#idle();
  }

  #canRun(key: string): boolean {
    if (!this.#models.has(key)) return false;
    for (const w of this.#workers) if (w.loaded.has(key) || w.loading.has(key)) return true;
    return false;
  }
}
