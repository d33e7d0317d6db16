/**
 * The models a server serves: every version of every model in the repository directory, loaded at start.
 * Latest version answers when a request names none, as Triton's default version policy does.
 */
import { BatchInferError, ErrorCodes, show } from '../lib/errors.js';
import { listModels, listVersions, readModelVersion } from '../lib/model-files.js';
import { LoadedModel } from '../lib/onnx/loaded-model.js';
import { directEngine } from './inference/direct-engine.js';
import type { ServedModel } from './served-model.js';

export class ModelRepository {
  readonly dir: string;
  readonly #models = new Map<string, Map<number, ServedModel>>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Loads every version of every model; a model that fails to load is reported and skipped. */
  async loadAll(onError: (model: string, err: unknown) => void): Promise<void> {
    for (const name of await listModels(this.dir)) {
      try {
        for (const version of await listVersions(this.dir, name)) {
          const files = await readModelVersion(this.dir, name, version);
          const loaded = await LoadedModel.load(files);
          const versions = this.#models.get(name) ?? new Map<number, ServedModel>();
          versions.set(version, { name, version, contract: files.contract, engine: directEngine(loaded) });
          this.#models.set(name, versions);
        }
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

  /** The model version a request names (a string from the URL), or the latest; 404-coded error otherwise. */
  get(name: string, version?: string): ServedModel {
    const versions = this.#models.get(name);
    if (versions === undefined) {
      throw new BatchInferError(ErrorCodes.MODEL_NOT_FOUND, `Unknown model ${show(name)}`, {
        context: { model: name },
      });
    }
    if (version === undefined) {
      const latest = Math.max(...versions.keys());
      return versions.get(latest) as ServedModel;
    }
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

  async close(): Promise<void> {
    const all = [...this.#models.values()].flatMap((v) => [...v.values()]);
    this.#models.clear();
    await Promise.all(all.map((m) => m.engine.close()));
  }
}
