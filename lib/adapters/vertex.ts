/**
 * Vertex AI custom-container prediction (cloud.google.com/vertex-ai/docs/predictions/custom-container-requirements):
 * `POST <predict route>` with `{"instances": […]}`, answered by `{"predictions": […]}` in the same order
 * (lib/adapters/instances.ts). The route is the container's `AIP_PREDICT_ROUTE`; the default, `/predict`, is
 * what `batch-infer serve` uses when that variable is unset.
 */
import type { ModelContract } from '../core/model-contract.js';
import type { HttpCodec } from './types.js';
import { instancesJson, readInstancePredictions } from './instances.js';
import { parseJson } from './v2-outputs.js';

export const DEFAULT_VERTEX_PREDICT_ROUTE = '/predict';

export function vertexCodec(
  contract: ModelContract,
  outputs: readonly string[],
  route: string = DEFAULT_VERTEX_PREDICT_ROUTE,
): HttpCodec {
  return {
    name: 'vertex',
    encode(inputs) {
      return { path: route, headers: { 'content-type': 'application/json' }, body: instancesJson(inputs) };
    },
    decode(response, rows) {
      const parsed = parseJson(response.body, 'to a predict request') as { predictions?: unknown };
      return readInstancePredictions(parsed.predictions, rows, contract, outputs);
    },
  };
}
