/**
 * Open Inference Protocol V2 JSON codec: one FP32 input tensor [rows, width] in, the probability output
 * [rows, labels] out (shared/spec/inference_rest.md §Inference).
 */
import { BatchInferError, ErrorCodes } from '../errors.js';
import type { ModelContract } from '../core/model-contract.js';
import type { HttpCodec, HttpResponse } from './types.js';

function badResponse(message: string): never {
  throw new BatchInferError(ErrorCodes.BAD_RESPONSE, message);
}

export function v2JsonCodec(contract: ModelContract, version?: number): HttpCodec {
  const input = contract.inputs[0]?.name ?? 'features';
  const output = contract.outputs[0]?.name ?? 'probabilities';
  const width = contract.labels.length;
  const base = `/v2/models/${encodeURIComponent(contract.name)}${version === undefined ? '' : `/versions/${version}`}/infer`;
  return {
    name: 'v2-json',
    encode(tensor, rows, featureWidth) {
      const body = JSON.stringify({
        inputs: [{ name: input, shape: [rows, featureWidth], datatype: 'FP32', data: Array.from(tensor) }],
        outputs: [{ name: output }],
      });
      return { path: base, headers: { 'content-type': 'application/json' }, body };
    },
    decode(response: HttpResponse, rows) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.body.toString('utf8'));
      } catch (cause) {
        throw new BatchInferError(ErrorCodes.BAD_RESPONSE, 'Model server answered with invalid JSON', {
          cause,
        });
      }
      const outputs = (parsed as { outputs?: unknown }).outputs;
      if (!Array.isArray(outputs)) badResponse('Model server response has no `outputs` array');
      const found = (outputs as { name?: unknown; data?: unknown }[]).find((o) => o.name === output);
      if (found === undefined || !Array.isArray(found.data))
        badResponse(`Model server response lacks output "${output}"`);
      const data = (found.data as unknown[]).flat(Infinity);
      if (data.length !== rows * width)
        badResponse(`Output "${output}" has ${data.length} values, expected ${rows} × ${width}`);
      return Float32Array.from(data as number[]);
    },
  };
}
