/**
 * Open Inference Protocol V2 JSON codec: one FP32 input tensor [rows, width] in, the probability output
 * [rows, labels] out (shared/spec/inference_rest.md §Inference).
 */
import type { ModelContract } from '../core/model-contract.js';
import { float32JsonBytes } from '../core/probability-text.js';
import type { HttpCodec } from './types.js';
import { parseJson, readV2Output } from './v2-outputs.js';

/** `/v2/models/<name>[/versions/<v>]/infer`. */
export function v2InferPath(contract: ModelContract, version?: number): string {
  return `/v2/models/${encodeURIComponent(contract.name)}${version === undefined ? '' : `/versions/${version}`}/infer`;
}

export function v2JsonCodec(contract: ModelContract, version?: number): HttpCodec {
  const input = contract.inputs[0]?.name ?? 'features';
  const output = contract.outputs[0]?.name ?? 'probabilities';
  const path = v2InferPath(contract, version);
  // The request's JSON around the tensor's shape and data.
  const head = `{"inputs":[{"name":${JSON.stringify(input)},"shape":`;
  const tail = `"outputs":[{"name":${JSON.stringify(output)}}]}`;
  return {
    name: 'v2-json',
    encode(tensor, rows, featureWidth) {
      // Written as bytes: the batch's text never becomes one large string the collector must move.
      const body = float32JsonBytes(
        `${head}${JSON.stringify([rows, featureWidth])},"datatype":"FP32","data":`,
        tensor,
        `}],${tail}`,
      );
      return { path, headers: { 'content-type': 'application/json' }, body };
    },
    decode(response, rows) {
      const header = parseJson(response.body, 'to an inference request');
      return readV2Output(header, Buffer.alloc(0), output, rows, contract.labels.length);
    },
  };
}
