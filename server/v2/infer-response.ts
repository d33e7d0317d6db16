/**
 * Builds an Open Inference Protocol inference response. Outputs asked for as binary carry
 * `parameters.binary_data_size` instead of `data`, and their bytes follow the JSON in output order
 * (binary tensor extension, binary.ts); without any, the response is plain JSON.
 *
 * The JSON comes out as text, with the content type set here, so that Koa neither serializes an object nor
 * looks the type up per request: on the online path every microsecond of the main thread is a request/s.
 */
import { tensorDataJson } from '../../lib/core/tensor-json.js';
import type { Tensor } from '../inference/types.js';
import type { ServedModel } from '../served-model.js';
import { encodeTensorBytes } from './binary.js';
import type { ParsedInferRequest } from './infer-request.js';

export type InferResponse =
  | { kind: 'json'; contentType: string; body: string }
  | { kind: 'binary'; contentType: string; body: Buffer; headerLength: number };

const JSON_TYPE = 'application/json; charset=utf-8';
const BINARY_TYPE = 'application/octet-stream';

export function inferResponse(
  model: ServedModel,
  request: ParsedInferRequest,
  outputs: readonly Tensor[],
): InferResponse {
  const blobs: Buffer[] = [];
  const head = `{"model_name":${JSON.stringify(model.name)},"model_version":"${model.version}"${
    request.id === undefined ? '' : `,"id":${JSON.stringify(request.id)}`
  },"outputs":[`;
  const parts = outputs.map((o, i) => {
    const meta = `{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":${JSON.stringify(o.shape)}`;
    if (request.binaryOutputs[i] !== true) return `${meta},"data":${tensorDataJson(o.datatype, o.data)}}`;
    const blob = encodeTensorBytes(o);
    blobs.push(blob);
    return `${meta},"parameters":{"binary_data_size":${blob.length}}}`;
  });
  const json = `${head}${parts.join(',')}]}`;
  if (blobs.length === 0) return { kind: 'json', contentType: JSON_TYPE, body: json };
  const header = Buffer.from(json, 'utf8');
  return {
    kind: 'binary',
    contentType: BINARY_TYPE,
    body: Buffer.concat([header, ...blobs]),
    headerLength: header.length,
  };
}
