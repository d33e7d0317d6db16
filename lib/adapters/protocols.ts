/**
 * The HTTP protocols by name, and the choice of one when the user names none: the server's metadata
 * (`GET /v2`) lists the protocol extensions it implements, and binary tensors are used when it lists
 * `binary_tensor_data` (the name Triton reports), JSON otherwise.
 */
import type { ModelContract } from '../core/model-contract.js';
import type { HttpCodec } from './types.js';
import { sagemakerCodec } from './sagemaker.js';
import { v2BinaryCodec } from './v2-binary.js';
import { v2JsonCodec } from './v2-json.js';
import { vertexCodec } from './vertex.js';

export const HTTP_PROTOCOLS = ['v2-json', 'v2-binary', 'vertex', 'sagemaker'] as const;
export type HttpProtocol = (typeof HTTP_PROTOCOLS)[number];

export const BINARY_EXTENSION = 'binary_tensor_data';

/**
 * The server's `GET /v2` metadata, or undefined when it does not speak the Open Inference Protocol (a bare
 * SageMaker or Vertex container) or cannot be reached; the request that follows reports the latter.
 */
export async function serverMetadata(
  url: string,
  signal?: AbortSignal,
): Promise<{ extensions: string[] } | undefined> {
  try {
    // undici loads only when a run talks to a server (~0.2 s of start-up that `local` runs skip).
    const { request } = await import('undici');
    const response = await request(`${url.replace(/\/$/, '')}/v2`, signal ? { signal } : {});
    if (response.statusCode !== 200) {
      await response.body.dump();
      return undefined;
    }
    const body = (await response.body.json()) as { extensions?: unknown };
    const extensions = Array.isArray(body.extensions)
      ? body.extensions.filter((e): e is string => typeof e === 'string')
      : [];
    return { extensions };
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

export function defaultProtocol(metadata: { extensions: string[] } | undefined): HttpProtocol {
  return metadata?.extensions.includes(BINARY_EXTENSION) === true ? 'v2-binary' : 'v2-json';
}

/** The codec of a protocol, asking for `outputs` (default: every output of the model). */
export function createCodec(
  protocol: HttpProtocol,
  contract: ModelContract,
  version: number | undefined,
  predictRoute: string | undefined,
  outputs: readonly string[] = contract.outputs.map((o) => o.name),
): HttpCodec {
  switch (protocol) {
    case 'v2-json':
      return v2JsonCodec(contract, version, outputs);
    case 'v2-binary':
      return v2BinaryCodec(contract, version, outputs);
    case 'vertex':
      return vertexCodec(contract, outputs, predictRoute);
    case 'sagemaker':
      return sagemakerCodec(contract, outputs);
  }
}
