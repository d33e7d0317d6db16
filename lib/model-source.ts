/**
 * Where a pipeline gets the model contract: from the server's model metadata (`properties.contract`), so the
 * Preprocessor computes exactly the features the served model was trained on, or from a local repository.
 */
import { BatchInferError, ErrorCodes, show } from './errors.js';
import { validateContract, type ModelContract } from './core/model-contract.js';

/** The parts of a V2 model metadata answer that batch-infer reads. */
export interface ModelMetadata {
  /** The versions the server serves (strings, in the V2 protocol). */
  versions?: unknown;
  /** batch-infer servers: `contract` (the model contract as JSON text) and `version` (the one answering). */
  properties?: { contract?: unknown; version?: unknown };
}

/**
 * `GET /v2/models/{m}[/versions/{v}]`: the model's metadata. A model (or version) the server does not serve is
 * BI_ERR_MODEL_NOT_FOUND; no answer, or another status than 200, BI_ERR_HTTP_STATUS.
 */
export async function fetchModelMetadata(
  url: string,
  model: string,
  version?: number,
  signal?: AbortSignal,
): Promise<ModelMetadata> {
  const base = url.replace(/\/$/, '');
  const path = `/v2/models/${encodeURIComponent(model)}${version === undefined ? '' : `/versions/${version}`}`;
  let status: number;
  let body: unknown;
  try {
    const { request } = await import('undici'); // loaded only by commands that talk to a server
    const response = await request(base + path, signal ? { signal } : {});
    status = response.statusCode;
    body = await response.body.json();
  } catch (cause) {
    throw new BatchInferError(
      ErrorCodes.HTTP_STATUS,
      `Cannot fetch model metadata from ${base + path}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (status === 404) {
    throw new BatchInferError(
      ErrorCodes.MODEL_NOT_FOUND,
      `The server at ${base} does not serve model ${show(model)}${version === undefined ? '' : ` version ${version}`}`,
      {
        context: { model, status },
      },
    );
  }
  if (status !== 200)
    throw new BatchInferError(ErrorCodes.HTTP_STATUS, `Model metadata request answered ${status}`, {
      context: { model, status },
    });
  return typeof body === 'object' && body !== null ? body : {};
}

export async function fetchContract(
  url: string,
  model: string,
  version?: number,
  signal?: AbortSignal,
): Promise<{ contract: ModelContract; version: number | undefined }> {
  const meta = await fetchModelMetadata(url, model, version, signal);
  if (typeof meta.properties?.contract !== 'string') {
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `The server's metadata for ${show(model)} carries no batch-infer contract (properties.contract)`,
      {
        context: { model },
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(meta.properties.contract);
  } catch (cause) {
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `properties.contract of ${show(model)} is not JSON`,
      { cause, context: { model } },
    );
  }
  // The version that answers: the server's own word (batch-infer servers say it in `properties.version`), else
  // the latest listed, which is what a server without a default-version policy (Triton's "latest") serves.
  const reported = meta.properties.version;
  const versions = Array.isArray(meta.versions) ? meta.versions.map(Number).filter(Number.isInteger) : [];
  return {
    contract: validateContract(parsed, model),
    version:
      version ??
      (typeof reported === 'string' && /^[1-9]\d*$/.test(reported)
        ? Number(reported)
        : versions.length > 0
          ? Math.max(...versions)
          : undefined),
  };
}
