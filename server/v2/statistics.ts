/**
 * Triton's statistics extension (triton-inference-server/server docs/protocol/extension_statistics.md):
 * `GET /v2/models/stats` lists every served version of every model, `/v2/models/{m}/stats` every served version
 * of one, `/v2/models/{m}/versions/{v}/stats` one version. The counts are kept by the engines
 * (inference/statistics.ts); a model or version that is not served is 404, as on the other model routes.
 */
import type { ModelStat, StatisticsRegistry } from '../inference/statistics.js';
import type { ModelRepository } from '../repository.js';

/** The extension's name in server metadata (`GET /v2` → `extensions`). */
export const STATISTICS_EXTENSION = 'statistics';

/** `{"model_stats": […]}` for the models and versions a request names: all of them when it names none. */
export function modelStatistics(
  repository: ModelRepository,
  statistics: StatisticsRegistry,
  name?: string,
  version?: string,
): { model_stats: ModelStat[] } {
  const of = (model: string, v: number) => statistics.of(model, v).toJSON();
  if (name === undefined) {
    return {
      model_stats: repository.names().flatMap((model) => repository.versions(model).map((v) => of(model, v))),
    };
  }
  // Throws the 404-coded error for an unknown model or version.
  const served = repository.get(name, version);
  if (version !== undefined) return { model_stats: [of(served.name, served.version)] };
  return { model_stats: repository.versions(served.name).map((v) => of(served.name, v)) };
}
