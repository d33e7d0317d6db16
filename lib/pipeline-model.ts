/**
 * The model side of a run: the contract (from the server's metadata, or the local repository), the protocol
 * (the user's, else chosen from the server's metadata) and the scorer that speaks it.
 */
import type { ModelContract } from './core/model-contract.js';
import { createHttpScorer, type HttpScorerOptions } from './adapters/http-scorer.js';
import { createLocalScorer } from './adapters/local-scorer.js';
import { createCodec, defaultProtocol, serverMetadata, type HttpProtocol } from './adapters/protocols.js';
import type { BatchScorer } from './adapters/types.js';
import { readModelVersion } from './model-files.js';
import { fetchContract } from './model-source.js';
import type { Protocol, ResolvedPipelineOptions } from './pipeline-options.js';

export interface ResolvedModel {
  contract: ModelContract;
  version: number | undefined;
  protocol: Protocol;
  scorer: BatchScorer;
}

/** Per-request callbacks of an HTTP scorer (the run's metrics). */
export type RequestHooks = Pick<HttpScorerOptions, 'onAttempt' | 'onRetry'>;

export async function resolveModel(
  o: ResolvedPipelineOptions,
  hooks: RequestHooks = {},
): Promise<ResolvedModel> {
  if (o.protocol === 'local' || o.url === undefined) {
    const files = await readModelVersion(o.models, o.model, o.modelVersion);
    return {
      contract: files.contract,
      version: files.version,
      protocol: 'local',
      scorer: await createLocalScorer(files),
    };
  }
  const url = o.url;
  const metadata = await serverMetadata(url, o.signal);
  const protocol: HttpProtocol = o.protocol ?? defaultProtocol(metadata);
  // A bare SageMaker or Vertex container has no V2 metadata to take the contract from: the local repository
  // (`models`) must then hold the served model's model.json.
  const { contract, version } =
    metadata === undefined && (protocol === 'vertex' || protocol === 'sagemaker')
      ? await readModelVersion(o.models, o.model, o.modelVersion)
      : await fetchContract(url, o.model, o.modelVersion, o.signal);
  return {
    contract,
    version,
    protocol,
    scorer: createHttpScorer({
      url,
      codec: createCodec(protocol, contract, o.modelVersion, o.predictRoute),
      width: contract.features.length,
      connections: o.concurrency,
      timeoutMs: o.timeout,
      retries: o.retries,
      ...hooks,
    }),
  };
}
