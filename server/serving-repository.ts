/**
 * The model repository as the server uses it: ModelRepository plus two things it does not record, kept by
 * watching its loads and unloads (at start-up, and through the repository API over any protocol):
 *
 * - which models are meant to be served: every model a load was asked for (at start-up, every directory in the
 *   repository), until it is unloaded on purpose. Readiness (`GET /v2/health/ready`) wants each of them served,
 *   as Triton's strict readiness does: a model that failed to load keeps the server out of a load balancer's
 *   rotation until a load succeeds or the model is unloaded. A load of a model that is not in the repository
 *   (404) or of an invalid name (400) asks for nothing.
 * - the config override a model was last loaded with, for the version policy the model configuration extension
 *   reports (v2/config.ts).
 */
import { ErrorCodes, isBatchInferError } from '../lib/errors.js';
import { readModelConfig, type ModelConfig } from '../lib/model-files.js';
import { ModelRepository } from './repository.js';

export class ServingRepository extends ModelRepository {
  /** Models whose last load failed, unless they were unloaded since: meant to be served. */
  readonly #failed = new Set<string>();
  /** The config override of each model's last successful load that had one. */
  readonly #overrides = new Map<string, ModelConfig>();

  override async load(name: string, override?: ModelConfig): Promise<void> {
    try {
      await super.load(name, override);
    } catch (err) {
      const nothingAsked =
        isBatchInferError(err, ErrorCodes.MODEL_NOT_FOUND) || isBatchInferError(err, ErrorCodes.BAD_REQUEST);
      if (!nothingAsked) this.#failed.add(name);
      throw err;
    }
    this.#failed.delete(name);
    if (override === undefined) this.#overrides.delete(name);
    else this.#overrides.set(name, override);
  }

  override async unload(name: string): Promise<void> {
    await super.unload(name);
    this.#failed.delete(name);
    this.#overrides.delete(name);
  }

  /**
   * True when every model meant to be served is served: none whose last load failed is left without a served
   * version (a failed reload leaves the previous versions serving, which counts).
   */
  servesAllWanted(): boolean {
    for (const name of this.#failed) if (this.defaultVersion(name) === undefined) return false;
    return true;
  }

  /** The config in effect for a model: its last load's override, else its config.json as it is now. */
  async configOf(name: string): Promise<ModelConfig> {
    return this.#overrides.get(name) ?? (await readModelConfig(this.dir, name));
  }
}
