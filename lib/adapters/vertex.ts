/**
 * Vertex AI custom-container prediction (cloud.google.com/vertex-ai/docs/predictions/custom-container-requirements):
 * `POST <predict route>` with `{"instances": [[features…], …]}`, answered by `{"predictions": […]}` in the same
 * order. The route is the container's `AIP_PREDICT_ROUTE`; the default, `/predict`, is what `batch-infer serve`
 * uses when that variable is unset.
 */
import type { ModelContract } from '../core/model-contract.js';
import { float32JsonBytes } from '../core/probability-text.js';
import type { HttpCodec } from './types.js';
import { readPredictions } from './predictions.js';
import { parseJson } from './v2-outputs.js';

export const DEFAULT_VERTEX_PREDICT_ROUTE = '/predict';

/**
 * `{"instances": [[features…], …]}`: one feature array per row, the body Vertex AI and our SageMaker route take;
 * written as bytes, each value with the 9 significant digits that give back its float32 (as `v2-json`).
 */
export function featureInstancesJson(tensor: Float32Array, rows: number, width: number): Buffer {
  return float32JsonBytes('{"instances":', tensor.subarray(0, rows * width), '}', width);
}

export function vertexCodec(
  contract: ModelContract,
  route: string = DEFAULT_VERTEX_PREDICT_ROUTE,
): HttpCodec {
  return {
    name: 'vertex',
    encode(tensor, rows, width) {
      return {
        path: route,
        headers: { 'content-type': 'application/json' },
        body: featureInstancesJson(tensor, rows, width),
      };
    },
    decode(response, rows) {
      const parsed = parseJson(response.body, 'to a predict request') as { predictions?: unknown };
      return readPredictions(parsed.predictions, rows, contract.labels);
    },
  };
}
