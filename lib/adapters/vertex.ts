/**
 * Vertex AI custom-container prediction (cloud.google.com/vertex-ai/docs/predictions/custom-container-requirements):
 * `POST <predict route>` with `{"instances": [[features…], …]}`, answered by `{"predictions": […]}` in the same
 * order. The route is the container's `AIP_PREDICT_ROUTE`; Vertex's own endpoints use `/v1/models/<model>:predict`.
 */
import type { ModelContract } from '../core/model-contract.js';
import type { HttpCodec } from './types.js';
import { readPredictions } from './predictions.js';
import { parseJson } from './v2-outputs.js';

export function vertexPredictRoute(contract: ModelContract): string {
  return `/v1/models/${encodeURIComponent(contract.name)}:predict`;
}

export function vertexCodec(
  contract: ModelContract,
  route: string = vertexPredictRoute(contract),
): HttpCodec {
  return {
    name: 'vertex',
    encode(tensor, rows, width) {
      const instances = Array.from({ length: rows }, (_, i) =>
        Array.from(tensor.subarray(i * width, (i + 1) * width)),
      );
      return {
        path: route,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances }),
      };
    },
    decode(response, rows) {
      const parsed = parseJson(response.body, 'to a predict request') as { predictions?: unknown };
      return readPredictions(parsed.predictions, rows, contract.labels);
    },
  };
}
