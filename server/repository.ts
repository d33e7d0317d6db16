/**
 * The models a server serves, from a Triton-style repository directory. Which versions of a model are served,
 * and which one answers when a request names none, is its `config.json` (lib/model-files.ts): by default every
 * version, the latest answering; `{"version_policy": {"specific": {"versions": [1]}}}` keeps a newer version
 * on disk out of service until it is promoted. A `load` may override the config for that load, as Triton's
 * `{"parameters": {"config": "<json>"}}` does: that is how a challenger is staged and promoted at run time.
 *
 * Loading is per model and all-or-nothing: every version is read and loaded into the worker pool first, and
 * only if all succeed do the new versions replace the old ones, in one synchronous swap. So a failed (re)load
 * never takes down what is being served, and a reload drops no request: routes hold a `ServedVersion` whose
 * engine is looked up at call time, and a replaced engine finishes its queue before its sessions are released.
 * The repository extension (research/serving.md §1.6) drives `load`, `unload` and `index`.
 */
import type { Logger } from 'pino';
import { BatchInferError, ErrorCodes, isBatchInferError, show } from '../lib/errors.js';
import type { ModelContract } from '../lib/core/model-contract.js';
import {
  listModels,
  listVersions,
  readModelConfig,
  readModelVersion,
  selectVersions,
  type ModelConfig,
  type ModelVersionFiles,
} from '../lib/model-files.js';
import { PoolEngine } from './inference/pool-engine.js';
import { MODEL_NAME } from './model-name.js';
import type { InferenceEngine, Tensor } from './inference/types.js';
import { allocateTensor } from '../lib/core/tensor.js';
import { WorkerPool } from './inference/worker-pool.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';
import type { ServedModel } from './served-model.js';

/** One row of `POST /v2/repository/index`, as Triton's extension_model_repository.md gives it. */
export interface IndexEntry {
  name: string;
  version?: string;
  state: 'READY' | 'UNAVAILABLE';
  reason: string;
  /** A served version's contract source (a batch-infer extension): its ONNX graph alone, or with model.json. */
  contract?: 'graph' | 'model.json';
}

/**
 * One row of zeros (empty strings) for each input, to time the model with (inference/main-thread.ts); none
 * when a dim past the batch is variable, since one size would not say what the others cost.
 */
function probeOf(contract: ModelContract): { probe?: Tensor[] } {
  if (!contract.inputs.every((spec) => spec.shape.slice(1).every((d) => d >= 0))) return {};
  return {
    probe: contract.inputs.map((spec) => {
      const [first = -1] = spec.shape;
      return allocateTensor(spec, first === -1 ? 1 : first);
    }),
  };
}

/** A loaded model version: its contract, its engine and the hash of the model.onnx it runs. */
interface Loaded {
  contract: ModelContract;
  engine: PoolEngine;
  sha256: string;
}

/** What routes hold: stable across reloads, it forwards to whatever is loaded when it is called. */
class ServedVersion implements ServedModel {
  readonly name: string;
  readonly version: number;
  current: Loaded | undefined;
  readonly engine: InferenceEngine = {
    infer: (inputs, outputNames, options) => this.#engine().infer(inputs, outputNames, options),
    close: () => this.#engine().close(),
  };

  constructor(name: string, version: number, loaded: Loaded) {
    this.name = name;
    this.version = version;
    this.current = loaded;
  }

  get contract(): ModelContract {
    return this.#loaded().contract;
  }

  #engine(): PoolEngine {
    return this.#loaded().engine;
  }

  #loaded(): Loaded {
    if (this.current === undefined) {
      throw new BatchInferError(
        ErrorCodes.MODEL_NOT_FOUND,
        `Version ${this.version} of model ${show(this.name)} was unloaded`,
        { context: { model: this.name } },
      );
    }
    return this.current;
  }
}

export class ModelRepository {
  readonly dir: string;
  readonly #options: ResolvedServerOptions;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger | undefined;
  readonly #pool: WorkerPool;
  readonly #models = new Map<string, Map<number, ServedVersion>>();
  /** Per served model, the version answering requests that name none; swapped together with #models. */
  readonly #defaults = new Map<string, number>();
  /** The config override of a model's last successful load, if it had one: the index lists what it selects. */
  readonly #overrides = new Map<string, ModelConfig>();
  /** Why a model is not (fully) served: its last load failed, or it was unloaded. */
  readonly #unavailable = new Map<string, string>();
  /** Per model, the load or unload in progress, so two never interleave. */
  readonly #busy = new Map<string, Promise<unknown>>();
  /** Engines being drained after a swap or unload; close() waits for them. */
  readonly #retiring = new Set<Promise<void>>();
  #generation = 0;

  constructor(options: ResolvedServerOptions, deps: { metrics: ServerMetrics; logger?: Logger }) {
    this.dir = options.models;
    this.#options = options;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
    this.#pool = new WorkerPool({
      size: options.workers,
      intraOpThreads: options.intraOpThreads,
      inThreadRunUs: options.inThreadRunUs,
      ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    });
  }

  /** Loads every model in the directory; a model that fails to load is reported and skipped. */
  async loadAll(onError: (model: string, err: unknown) => void): Promise<void> {
    for (const name of await listModels(this.dir)) {
      try {
        await this.load(name);
      } catch (err) {
        onError(name, err);
      }
    }
  }

  get size(): number {
    return this.#models.size;
  }

  names(): string[] {
    return [...this.#models.keys()].sort();
  }

  versions(name: string): number[] {
    return [...(this.#models.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The version answering requests to `name` that name none, when the model is served. */
  defaultVersion(name: string): number | undefined {
    return this.#defaults.get(name);
  }

  /**
   * The model version a request names (a string from the URL), or the default version (config.json's
   * `default_version`, else the latest served); 404-coded error otherwise.
   */
  get(name: string, version?: string): ServedModel {
    const versions = this.#models.get(name);
    if (versions === undefined) {
      throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Unknown model ${show(name)}`, {
        context: { model: name },
      });
    }
    if (version === undefined) return versions.get(this.#defaults.get(name) as number) as ServedModel;
    const model = /^[1-9]\d*$/.test(version) ? versions.get(Number(version)) : undefined;
    if (model === undefined) {
      throw new BatchInferError(
        ErrorCodes.MODEL_NOT_FOUND,
        `Unknown version ${show(version)} of model ${show(name)}`,
        {
          context: { model: name },
        },
      );
    }
    return model;
  }

  /**
   * (Re)loads a model from the directory: the versions its config.json selects, or those `override` selects
   * (for this load only: the next load without one reads config.json again, as in Triton). Nothing changes
   * unless all of them load; then they are served at once, with the new default version, and the replaced
   * ones drain in the background.
   */
  load(name: string, override?: ModelConfig): Promise<void> {
    if (!MODEL_NAME.test(name)) {
      return Promise.reject(
        new BatchInferError(ErrorCodes.BAD_REQUEST, `Invalid model name ${show(name)}`, {
          context: { model: name },
        }),
      );
    }
    return this.#exclusive(name, async () => {
      let loaded: { versions: Map<number, Loaded>; defaultVersion: number };
      try {
        loaded = await this.#loadVersions(name, override ?? (await readModelConfig(this.dir, name)));
      } catch (err) {
        this.#unavailable.set(name, (err as Error).message);
        throw err;
      }
      this.#unavailable.delete(name);
      if (override === undefined) this.#overrides.delete(name);
      else this.#overrides.set(name, override);
      this.#swap(name, loaded.versions, loaded.defaultVersion);
    });
  }

  /** Stops serving a model; requests already queued for it finish first. */
  unload(name: string): Promise<void> {
    return this.#exclusive(name, async () => {
      if (!this.#models.has(name) && !(await this.#onDisk(name))) {
        throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Unknown model ${show(name)}`, {
          context: { model: name },
        });
      }
      this.#swap(name, new Map(), undefined);
      this.#unavailable.set(name, 'unloaded');
    });
  }

  /**
   * Every model version being served or selected by its version policy, with its state; `ready` keeps only
   * READY ones. A version directory the policy leaves out is not listed, as in Triton.
   */
  async index(ready = false): Promise<IndexEntry[]> {
    const names = new Set(this.#models.keys());
    for (const name of await listModels(this.dir).catch((): string[] => [])) names.add(name);
    const entries: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const served = this.#models.get(name) ?? new Map<number, ServedVersion>();
      const versions = new Set([...served.keys(), ...(await this.#selected(name))]);
      const reason = this.#unavailable.get(name) ?? 'not loaded';
      if (versions.size === 0) entries.push({ name, state: 'UNAVAILABLE', reason: 'no version directories' });
      for (const version of [...versions].sort((a, b) => a - b)) {
        entries.push(
          served.has(version)
            ? {
                name,
                version: String(version),
                state: 'READY',
                reason: '',
                contract: served.get(version)?.current?.contract.source ?? 'model.json',
              }
            : { name, version: String(version), state: 'UNAVAILABLE', reason },
        );
      }
    }
    return ready ? entries.filter((e) => e.state === 'READY') : entries;
  }

  /** Drains and releases every model, then stops the worker pool. */
  async close(): Promise<void> {
    const engines = [...this.#models.values()].flatMap((v) => [...v.values()]);
    this.#models.clear();
    await Promise.all(engines.map((m) => this.#retire(m.name, m.version, m.current)));
    await Promise.all(this.#retiring);
    await this.#pool.close();
  }

  /**
   * The versions on disk the model's config in effect selects (the override of its last successful load, else
   * config.json); all of them when that config cannot be applied, so that the index shows them with the load's
   * failure as their reason.
   */
  async #selected(name: string): Promise<number[]> {
    const onDisk = await listVersions(this.dir, name).catch((): number[] => []);
    try {
      const config = this.#overrides.get(name) ?? (await readModelConfig(this.dir, name));
      return selectVersions(name, config, onDisk).versions;
    } catch {
      return onDisk;
    }
  }

  async #loadVersions(
    name: string,
    config: ModelConfig,
  ): Promise<{ versions: Map<number, Loaded>; defaultVersion: number }> {
    const selected = selectVersions(name, config, await listVersions(this.dir, name));
    const loaded = new Map<number, Loaded>();
    try {
      for (const version of selected.versions) loaded.set(version, await this.#loadVersion(name, version));
    } catch (err) {
      // Undo the versions that did load: they were never served.
      await Promise.all([...loaded.values()].map((l) => l.engine.close()));
      throw err;
    }
    return { versions: loaded, defaultVersion: selected.defaultVersion };
  }

  async #loadVersion(name: string, version: number): Promise<Loaded> {
    const where = `version ${version} of model ${show(name)}`;
    let files: ModelVersionFiles;
    try {
      files = await readModelVersion(this.dir, name, version);
    } catch (err) {
      if (isBatchInferError(err, ErrorCodes.MODEL_CONTRACT))
        err.message = `Cannot load ${where}: ${err.message.replace(`${name}: `, '')}`;
      throw err;
    }
    const key = `${name}/${version}#${++this.#generation}`;
    try {
      await this.#pool.load(key, {
        onnx: files.onnx,
        inputNames: files.contract.inputs.map((i) => i.name),
        outputNames: files.contract.outputs.map((o) => o.name),
        ...probeOf(files.contract),
      });
    } catch (err) {
      throw new BatchInferError(
        ErrorCodes.MODEL_CONTRACT,
        `Cannot load ${where}: ${(err as Error).message}`,
        {
          cause: err,
          context: { model: name },
        },
      );
    }
    const engine = new PoolEngine({
      pool: this.#pool,
      key,
      contract: files.contract,
      version,
      maxBatchSize: this.#options.maxBatchSize,
      maxQueueDelayMs: this.#options.maxQueueDelayMs,
      maxQueueSize: this.#options.maxQueueSize,
      metrics: this.#metrics,
    });
    return { contract: files.contract, engine, sha256: files.sha256 };
  }

  /**
   * Serves `loaded` as the model's versions, with `defaultVersion` answering unversioned requests, in one
   * synchronous step; replaced and removed versions drain and close.
   */
  #swap(name: string, loaded: Map<number, Loaded>, defaultVersion: number | undefined): void {
    const previous = this.#models.get(name) ?? new Map<number, ServedVersion>();
    const next = new Map<number, ServedVersion>();
    for (const [version, current] of loaded) {
      const served = previous.get(version);
      const old = served?.current;
      if (served === undefined) next.set(version, new ServedVersion(name, version, current));
      else {
        served.current = current;
        next.set(version, served);
      }
      void this.#retire(name, version, old);
      this.#metrics.modelInfo.set(
        { model_name: name, model_version: String(version), model_sha256: current.sha256 },
        1,
      );
    }
    for (const [version, served] of previous) {
      if (loaded.has(version)) continue;
      const old = served.current;
      served.current = undefined;
      void this.#retire(name, version, old);
    }
    if (next.size > 0 && defaultVersion !== undefined) {
      this.#models.set(name, next);
      this.#defaults.set(name, defaultVersion);
    } else {
      this.#models.delete(name);
      this.#defaults.delete(name);
    }
  }

  /** Drains an engine that no longer takes requests and releases its sessions, in the background. */
  #retire(name: string, version: number, old: Loaded | undefined): Promise<void> {
    if (old === undefined) return Promise.resolve();
    this.#metrics.modelInfo.remove({
      model_name: name,
      model_version: String(version),
      model_sha256: old.sha256,
    });
    const closing = old.engine.close().catch((err: unknown) => {
      this.#logger?.error({ err, model: name, version }, 'releasing a replaced model version failed');
    });
    this.#retiring.add(closing);
    void closing.finally(() => this.#retiring.delete(closing));
    return closing;
  }

  async #onDisk(name: string): Promise<boolean> {
    return MODEL_NAME.test(name) && (await listModels(this.dir).catch((): string[] => [])).includes(name);
  }

  #exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(name) ?? Promise.resolve();
    const result = before.then(work, work);
    const settled = result.catch(() => undefined);
    this.#busy.set(name, settled);
    void settled.then(() => {
      if (this.#busy.get(name) === settled) this.#busy.delete(name);
    });
    return result;
  }
}
