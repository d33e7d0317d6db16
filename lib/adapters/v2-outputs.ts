/**
 * Reading the outputs out of an Open Inference Protocol V2 response, whether their data came as JSON or as
 * binary tensor bytes after the JSON header (Triton's binary tensor data extension). Shared by the `v2-json` and
 * `v2-binary` codecs, since a server may answer a binary request in JSON.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { elementCount, isDatatype } from '../core/datatypes.js';
import { decodeTensorBytes } from '../core/tensor-bytes.js';
import { tensorDataFromJson } from '../core/tensor-json.js';
import type { Tensor, TensorData } from '../core/tensor.js';

export function badResponse(message: string, cause?: unknown): never {
  throw new BatchInferError(ErrorCodes.BAD_RESPONSE, message, cause === undefined ? {} : { cause });
}

export function parseJson(body: Buffer | string, what: string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (cause) {
    return badResponse(`Model server answered with invalid JSON ${what}`, cause);
  }
}

interface ResponseOutput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

/** One output of the response as a tensor; `blob` is its binary data, when it came as binary. */
function outputTensor(output: ResponseOutput, blob: Buffer | undefined, rows: number): Tensor {
  const name = String(output.name);
  const fail = (message: string): never => badResponse(`Output ${show(name)}: ${message}`);
  const { datatype, shape } = output;
  if (!isDatatype(datatype)) return fail(`unknown datatype ${show(datatype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
    return fail(`shape must be an array of non-negative integers, got ${show(shape)}`);
  const dims = shape as number[];
  if (dims[0] !== rows) fail(`has shape ${show(dims)}, expected ${rows} rows`);
  const count = elementCount(dims);
  let data: TensorData;
  if (blob !== undefined) data = decodeTensorBytes(datatype, blob, count, fail);
  else {
    if (!Array.isArray(output.data)) return fail('has neither `data` nor binary data');
    // Flat is how servers send data (and this one); nested arrays are allowed (spec §Tensor Data).
    const values = output.data as unknown[];
    const decoded = tensorDataFromJson(datatype, values.some(Array.isArray) ? values.flat(Infinity) : values);
    if (typeof decoded === 'string') return fail(decoded);
    data = decoded;
  }
  if (data.length !== count) fail(`has ${data.length} values for shape ${show(dims)}`);
  return { name, datatype, shape: dims, data };
}

/**
 * The outputs named `names`, in that order, `rows` rows each. `blobs` holds the bytes after the JSON header;
 * binary outputs take their `binary_data_size` bytes from it in the order they are listed.
 */
export function readV2Outputs(
  header: unknown,
  blobs: Buffer,
  names: readonly string[],
  rows: number,
): Tensor[] {
  const outputs = (header as { outputs?: unknown }).outputs;
  if (!Array.isArray(outputs)) badResponse('Model server response has no `outputs` array');
  let offset = 0;
  const found = new Map<string, Tensor>();
  for (const output of outputs as ResponseOutput[]) {
    const size = output.parameters?.binary_data_size;
    let blob: Buffer | undefined;
    if (typeof size === 'number') {
      if (offset + size > blobs.length)
        badResponse(`Output ${show(output.name)} claims ${size} binary bytes; the body has fewer`);
      blob = blobs.subarray(offset, offset + size);
      offset += size;
    }
    if (typeof output.name === 'string' && names.includes(output.name))
      found.set(output.name, outputTensor(output, blob, rows));
  }
  return names.map(
    (name) => found.get(name) ?? badResponse(`Model server response lacks output ${show(name)}`),
  );
}
