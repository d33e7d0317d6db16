/**
 * The model side of a run: the contract (from the server's metadata, or the local repository), the protocol
 * (the user's, else chosen from the server's metadata) and the scorer that speaks it — for a champion/challenger
 * run, a shadow scorer over the champion and the challenger version, which must share the champion's contract.
 */
import { BatchInferError, ErrorCodes, show } from './errors.js';
import { probabilityOutput, type ModelContract } from './core/model-contract.js';
import { planInputs, type InputPlan } from './core/input-plan.js';
import { planOutputs, type OutputPlan } from './core/output-plan.js';
import type { HttpScorerOptions } from './adapters/http-scorer.js';
import { createCodec, defaultProtocol, serverMetadata } from './adapters/protocols.js';
import { createShadowScorer } from './adapters/shadow-scorer.js';
import type { BatchScorer } from './adapters/types.js';
import { readModelVersion } from './model-files.js';
import { fetchContract } from './model-source.js';
import type { Protocol, ResolvedPipelineOptions } from './pipeline-options.js';

export interface ResolvedModel {
  contract: ModelContract;
  /** How the run reads the model's inputs from its columns. */
  inputPlan: InputPlan;
  /** Which outputs the run asks for and the columns they become. */
  outputPlan: OutputPlan;
  version: number | undefined;
  protocol: Protocol;
  /** The champion's scorer, or for a champion/challenger run the shadow scorer over both. */
  scorer: BatchScorer;
  /** The challenger's version, in a champion/challenger run. */
  challenger: { version: number } | undefined;
}

/** Per-request callbacks of an HTTP or gRPC scorer (the run's metrics). */
export type RequestHooks = Pick<HttpScorerOptions, 'onAttempt' | 'onRetry'>;

/**
 * A challenger scores the champion's features and its probabilities are read with the champion's labels, so it
 * must have the same feature spec (standardization included), input and labels.
 */
function checkChallenger(champion: ModelContract, challenger: ModelContract, version: number): void {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const differs = [
    same(champion.features, challenger.features) ? undefined : 'feature spec',
    same(champion.inputs, challenger.inputs) ? undefined : 'inputs',
    same(champion.labels, challenger.labels) ? undefined : 'labels',
  ].filter((d) => d !== undefined);
  if (differs.length > 0) {
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `Version ${version} of model ${show(champion.name)} cannot be the challenger: it differs from the champion in its ${differs.join(', ')}`,
      { context: { model: champion.name } },
    );
  }
}

/**
 * The run's input and output plans. A champion/challenger run compares probabilities: it needs a classifier, and
 * asks for its probability output only.
 */
function plans(
  o: ResolvedPipelineOptions,
  contract: ModelContract,
): { inputPlan: InputPlan; outputPlan: OutputPlan } {
  const inputPlan = planInputs(contract, o.features);
  if (o.shadowVersion === undefined) return { inputPlan, outputPlan: planOutputs(contract, o.outputs) };
  const probabilities = probabilityOutput(contract);
  if (probabilities === undefined)
    throw new BatchInferError(
      ErrorCodes.MODEL_CONTRACT,
      `A champion/challenger run compares class probabilities, and model ${show(contract.name)} is not a classifier (no labels)`,
      { context: { model: contract.name } },
    );
  return { inputPlan, outputPlan: planOutputs(contract, [probabilities.name]) };
}

async function resolveLocal(o: ResolvedPipelineOptions): Promise<ResolvedModel> {
  // onnxruntime loads only for in-process scoring: a run against a server does not carry it (~30 MiB of RSS).
  const { createLocalScorer } = await import('./adapters/local-scorer.js');
  const files = await readModelVersion(o.models, o.model, o.modelVersion);
  const planned = plans(o, files.contract);
  const scorer = await createLocalScorer(files, planned.outputPlan.outputs);
  if (o.shadowVersion === undefined)
    return {
      contract: files.contract,
      ...planned,
      version: files.version,
      protocol: 'local',
      scorer,
      challenger: undefined,
    };
  try {
    const challenger = await readModelVersion(o.models, o.model, o.shadowVersion);
    checkChallenger(files.contract, challenger.contract, o.shadowVersion);
    return {
      contract: files.contract,
      ...planned,
      version: files.version,
      protocol: 'local',
      scorer: createShadowScorer(scorer, await createLocalScorer(challenger, planned.outputPlan.outputs)),
      challenger: { version: o.shadowVersion },
    };
  } catch (err) {
    await scorer.close();
    throw err;
  }
}

export async function resolveModel(
  o: ResolvedPipelineOptions,
  hooks: RequestHooks = {},
): Promise<ResolvedModel> {
  if (o.protocol === 'local' || o.url === undefined) return resolveLocal(o);
  const url = o.url;
  const metadata = await serverMetadata(url, o.signal);
  const protocol = o.protocol ?? defaultProtocol(metadata);
  // A bare SageMaker or Vertex container has no V2 metadata to take the contract from: the local repository
  // (`models`) must then hold the served model's model.json.
  const { contract, version } =
    metadata === undefined && (protocol === 'vertex' || protocol === 'sagemaker')
      ? await readModelVersion(o.models, o.model, o.modelVersion)
      : await fetchContract(url, o.model, o.modelVersion, o.signal);
  const planned = plans(o, contract);
  let scorerFor: (c: ModelContract, v: number | undefined) => BatchScorer;
  if (protocol === 'v2-grpc') {
    // Loaded here, so that only a `v2-grpc` run loads the gRPC client (@grpc/grpc-js).
    const { createGrpcScorer } = await import('./adapters/grpc-scorer.js');
    const grpcUrl = o.grpcUrl as string; // normalizePipelineOptions sets it for v2-grpc
    scorerFor = (c, v) =>
      createGrpcScorer({
        url: grpcUrl,
        contract: c,
        ...(v === undefined ? {} : { version: v }),
        outputs: planned.outputPlan.outputs,
        timeoutMs: o.timeout,
        retries: o.retries,
        traceId: o.traceId,
        ...hooks,
      });
  } else {
    // Loaded here, so that a `local` run never loads the HTTP client (undici).
    const { createHttpScorer } = await import('./adapters/http-scorer.js');
    scorerFor = (c, v) =>
      createHttpScorer({
        url,
        codec: createCodec(protocol, c, v, o.predictRoute, planned.outputPlan.outputs),
        connections: o.concurrency,
        timeoutMs: o.timeout,
        retries: o.retries,
        traceId: o.traceId,
        ...hooks,
      });
  }
  const champion = scorerFor(contract, o.modelVersion);
  if (o.shadowVersion === undefined)
    return { contract, ...planned, version, protocol, scorer: champion, challenger: undefined };
  try {
    const challenger = await fetchContract(url, o.model, o.shadowVersion, o.signal);
    checkChallenger(contract, challenger.contract, o.shadowVersion);
    return {
      contract,
      ...planned,
      version,
      protocol,
      scorer: createShadowScorer(champion, scorerFor(challenger.contract, o.shadowVersion)),
      challenger: { version: o.shadowVersion },
    };
  } catch (err) {
    await champion.close();
    throw err;
  }
}
