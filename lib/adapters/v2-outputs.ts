/**
 * Reading the probability output out of an Open Inference Protocol V2 response, whether its data came as JSON
 * or as binary tensor bytes after the JSON header (Triton's binary tensor data extension). Shared by the
 * `v2-json` and `v2-binary` codecs, since a server may answer a binary request in JSON.
 */
import { BatchInferError, ErrorCodes } from '../errors.js';

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
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

/** Float values of a little-endian FP32 or FP64 blob; copied, since the blob need not be aligned. */
function fromBytes(bytes: Buffer, datatype: unknown, name: string): Float32Array {
  if (datatype === 'FP32') {
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  if (datatype === 'FP64') {
    const out = new Float32Array(bytes.length / 8);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readDoubleLE(i * 8);
    return out;
  }
  return badResponse(`Output "${name}" has datatype ${String(datatype)}; expected FP32 or FP64`);
}

/**
 * The values of output `name`, `rows × k` of them. `blobs` holds the bytes after the JSON header; binary
 * outputs take their `binary_data_size` bytes from it in the order they are listed.
 */
export function readV2Output(
  header: unknown,
  blobs: Buffer,
  name: string,
  rows: number,
  k: number,
): Float32Array {
  const outputs = (header as { outputs?: unknown }).outputs;
  if (!Array.isArray(outputs)) badResponse('Model server response has no `outputs` array');
  let offset = 0;
  let values: Float32Array | undefined;
  for (const output of outputs as ResponseOutput[]) {
    const size = output.parameters?.binary_data_size;
    if (typeof size === 'number') {
      if (offset + size > blobs.length)
        badResponse(`Output "${String(output.name)}" claims ${size} binary bytes; the body has fewer`);
      if (output.name === name)
        values = fromBytes(blobs.subarray(offset, offset + size), output.datatype, name);
      offset += size;
    } else if (output.name === name && Array.isArray(output.data)) {
      const data = output.data as unknown[];
      // Flat is how servers send data (and this one); nested arrays are allowed (spec §Tensor Data).
      values = Float32Array.from((data.some(Array.isArray) ? data.flat(Infinity) : data) as number[]);
    }
  }
  if (values === undefined) return badResponse(`Model server response lacks output "${name}"`);
  if (values.length !== rows * k)
    badResponse(`Output "${name}" has ${values.length} values, expected ${rows} × ${k}`);
  return values;
}
