/**
 * Open Inference Protocol V2 JSON codec: the batch's input tensors in, the run's outputs out
 * (shared/spec/inference_rest.md §Inference). The request body is written as bytes: a batch's values never
 * become one large string the collector must move.
 */
import type { ModelContract } from '../core/model-contract.js';
import { float32JsonBytes } from '../core/probability-text.js';
import { tensorDataJson } from '../core/tensor-json.js';
import type { Tensor } from '../core/tensor.js';
import type { HttpCodec } from './types.js';
import { parseJson, readV2Outputs } from './v2-outputs.js';

/** `/v2/models/<name>[/versions/<v>]/infer`. */
export function v2InferPath(contract: ModelContract, version?: number): string {
  return `/v2/models/${encodeURIComponent(contract.name)}${version === undefined ? '' : `/versions/${version}`}/infer`;
}

/** `{"name":…,"shape":…,"datatype":…,` — an input's JSON before its data or parameters. */
export function inputHead(tensor: Tensor): string {
  return `{"name":${JSON.stringify(tensor.name)},"shape":${JSON.stringify(tensor.shape)},"datatype":"${tensor.datatype}",`;
}

/** `"outputs":[{"name":…},…]}` with each output's own JSON inside the braces after its name. */
export function outputsTail(outputs: readonly string[], each = ''): string {
  return `"outputs":[${outputs.map((o) => `{"name":${JSON.stringify(o)}${each}}`).join(',')}]}`;
}

export function v2JsonCodec(
  contract: ModelContract,
  version: number | undefined,
  outputs: readonly string[],
): HttpCodec {
  const path = v2InferPath(contract, version);
  const tail = outputsTail(outputs);
  return {
    name: 'v2-json',
    encode(inputs) {
      const parts = inputs.map((t, i) => {
        const before = `${i === 0 ? '{"inputs":[' : ''}${inputHead(t)}"data":`;
        const after = i === inputs.length - 1 ? `}],${tail}` : '},';
        return t.data instanceof Float32Array
          ? float32JsonBytes(before, t.data, after)
          : Buffer.from(`${before}${tensorDataJson(t.datatype, t.data)}${after}`);
      });
      const body = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      return { path, headers: { 'content-type': 'application/json' }, body };
    },
    decode(response, rows) {
      return readV2Outputs(
        parseJson(response.body, 'to an inference request'),
        Buffer.alloc(0),
        outputs,
        rows,
      );
    },
  };
}
