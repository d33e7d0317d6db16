/**
 * ModelInfer's messages (grpc_service.proto) and the REST inference path's: a ModelInferRequest is rewritten
 * into the JSON shape of a REST request and checked by the same parseInferRequest (v2/infer-request.ts), so both
 * protocols accept and refuse exactly the same inputs, and answers come back in `raw_output_contents`, as
 * Triton's gRPC endpoint answers.
 *
 * - `raw_input_contents` (one entry per input, in the order of `inputs`) becomes the binary tensor extension's
 *   body after the header: each input gets `binary_data_size`, and the bytes are read as `v2-binary` bytes are.
 *   As in Triton, it holds every input's data or none.
 * - Otherwise each input's `contents` becomes its JSON `data`: the repeated field of its datatype
 *   (`fp32_contents` for FP32, `int_contents` for INT8/16/32, `bytes_contents` for BYTES as UTF-8 text, …), with
 *   the REST JSON range checks. INT64 and UINT64 values are exact up to 2^53, as in JSON; FP16 has no field, and
 *   travels raw only.
 * - Shared memory is not implemented: an input or output that names a region is refused.
 */
import { BatchInferError, ErrorCodes, show } from '../../lib/errors.js';
import { encodeTensorBytes } from '../../lib/core/tensor-bytes.js';
import type { ModelContract } from '../../lib/core/model-contract.js';
import type { Tensor } from '../inference/types.js';
import type { ServedModel } from '../served-model.js';
import { parseInferRequest, type ParsedInferRequest } from '../v2/infer-request.js';
import { CONTENTS_FIELD } from '../../lib/core/grpc-contents.js';

/** An InferParameter, as @grpc/proto-loader decodes it (`oneofs: true` names the field set). */
export interface InferParameter {
  parameter_choice?: string;
  [field: string]: unknown;
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: {
    name: string;
    datatype: string;
    shape: number[];
    parameters: Record<string, InferParameter>;
    contents: InferTensorContents | null;
  }[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

const SHARED_MEMORY = ['shared_memory_region', 'shared_memory_byte_size', 'shared_memory_offset'];

function bad(message: string): never {
  throw new BatchInferError(ErrorCodes.BAD_REQUEST, message);
}

function refuseSharedMemory(parameters: Record<string, InferParameter>, where: string): void {
  const named = SHARED_MEMORY.find((p) => p in parameters);
  if (named !== undefined)
    bad(`${where}: shared memory is not supported (parameter ${show(named)}); send the data in the request`);
}

const FIELDS = [...new Set(Object.values(CONTENTS_FIELD))];

/** The fields of `contents` that hold values. */
function filled(contents: InferTensorContents | null): (keyof InferTensorContents)[] {
  return contents === null ? [] : FIELDS.filter((field) => contents[field].length > 0);
}

/** An input's `contents` as the values of a REST input's `data`. */
function contentsData(input: ModelInferRequest['inputs'][number]): unknown[] {
  const where = `Input ${show(input.name)}`;
  const field = CONTENTS_FIELD[input.datatype];
  const given = filled(input.contents);
  if (field === undefined) {
    // A datatype the model does not take is reported by parseInferRequest, with the one it does.
    if (given.length > 0 && input.datatype === 'FP16')
      bad(`${where}: FP16 data has no field in InferTensorContents; send it in raw_input_contents`);
    return [];
  }
  const other = given.find((f) => f !== field);
  if (other !== undefined) bad(`${where}: ${input.datatype} values go in \`${field}\`, not \`${other}\``);
  if (input.contents === null) return [];
  if (field === 'bytes_contents') return input.contents.bytes_contents.map((b) => b.toString('utf8'));
  return input.contents[field];
}

/**
 * Checks a ModelInferRequest against a model's contract and turns it into tensors, as parseInferRequest does
 * for REST (the checks are its own).
 */
export function parseGrpcInferRequest(
  request: ModelInferRequest,
  contract: ModelContract,
): ParsedInferRequest {
  refuseSharedMemory(request.parameters, 'Inference request');
  const raw = request.raw_input_contents;
  if (raw.length > 0 && raw.length !== request.inputs.length)
    bad(
      `raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs: it holds every input's data, in the order of \`inputs\`, or none`,
    );
  const inputs = request.inputs.map((input, i) => {
    const where = `Input ${show(input.name)}`;
    refuseSharedMemory(input.parameters, where);
    const head = { name: input.name, datatype: input.datatype, shape: input.shape };
    if (raw.length === 0) return { ...head, data: contentsData(input) };
    if (filled(input.contents).length > 0)
      bad(`${where}: give its data in raw_input_contents or in contents, not both`);
    return { ...head, parameters: { binary_data_size: (raw[i] as Buffer).length } };
  });
  const outputs = request.outputs.map((output) => {
    refuseSharedMemory(output.parameters, `Output ${show(output.name)}`);
    return { name: output.name };
  });
  return parseInferRequest(
    {
      // proto3 has no absent string: an empty id is none.
      ...(request.id === '' ? {} : { id: request.id }),
      inputs,
      // …nor an absent list: no requested output is every output, as over REST.
      ...(outputs.length === 0 ? {} : { outputs }),
    },
    contract,
    raw.length === 0 ? undefined : Buffer.concat(raw),
  );
}

/** The answer to a ModelInfer request: the outputs' metadata, and their data in `raw_output_contents`. */
export function grpcInferResponse(
  model: ServedModel,
  request: ParsedInferRequest,
  outputs: readonly Tensor[],
): ModelInferResponse {
  return {
    model_name: model.name,
    model_version: String(model.version),
    id: request.id ?? '',
    outputs: outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
    raw_output_contents: outputs.map(encodeTensorBytes),
  };
}
