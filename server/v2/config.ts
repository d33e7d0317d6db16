/**
 * Triton's model configuration extension (triton-inference-server/server
 * docs/protocol/extension_model_configuration.md): `GET /v2/models/{m}[/versions/{v}]/config` answers the JSON
 * form of Triton's ModelConfig message (common/protobuf/model_config.proto) for the served model, built from
 * its contract and the server's options, so Triton clients and tools (perf_analyzer, model analyzer) read
 * what they expect:
 *
 * - `max_batch_size` is the server's dynamic batching limit when every input and output has the batch as
 *   first dimension (pool-engine.ts isBatchable), and then `dims` leave that dimension out, as in Triton; else
 *   0, with the full shapes. A tensor that is only the batch (`[-1]`) is `dims: [1]` with `reshape: {shape: []}`,
 *   as Triton writes it.
 * - `version_policy` is the policy of the config in effect (a load's override, else config.json; `{all: {}}`
 *   without one), or the served versions as `specific` when that policy no longer selects what is served.
 *   `default_version`, a batch-infer addition, travels as the string parameter Triton's config allows.
 */
import type { Datatype, TensorSpec } from '../../lib/core/model-contract.js';
import { listVersions, selectVersions, type ModelConfig, type VersionPolicy } from '../../lib/model-files.js';
import { isBatchable } from '../inference/pool-engine.js';
import type { ResolvedServerOptions } from '../options.js';
import type { ServedModel } from '../served-model.js';
import type { ServingRepository } from '../serving-repository.js';

/** The extension's name in server metadata (`GET /v2` → `extensions`). */
export const MODEL_CONFIGURATION_EXTENSION = 'model_configuration';

/** Triton's DataType names (model_config.proto) of the Open Inference Protocol datatypes. */
const TRITON_TYPES: Readonly<Record<Datatype | 'BF16', string>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  BF16: 'TYPE_BF16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

/** One `input` or `output` entry of Triton's ModelConfig. */
export interface TensorConfig {
  name: string;
  data_type: string;
  dims: number[];
  reshape?: { shape: number[] };
}

/** The part of Triton's ModelConfig that describes a served model here. */
export interface TritonModelConfig {
  name: string;
  platform: 'onnxruntime_onnx';
  backend: 'onnxruntime';
  version_policy: VersionPolicy;
  max_batch_size: number;
  input: TensorConfig[];
  output: TensorConfig[];
  dynamic_batching?: {
    max_queue_delay_microseconds: number;
    preserve_ordering: boolean;
    default_queue_policy: {
      timeout_action: 'REJECT';
      default_timeout_microseconds: number;
      allow_timeout_override: boolean;
      max_queue_size: number;
    };
  };
  instance_group: { kind: 'KIND_CPU'; count: number }[];
  default_model_filename: string;
  parameters: Record<string, { string_value: string }>;
}

/** What is served of a model: its versions and the one answering requests that name none. */
export interface ServedPolicy {
  policy: VersionPolicy;
  defaultVersion: number;
}

function tensorConfig(spec: TensorSpec, batched: boolean): TensorConfig {
  const dims = batched ? spec.shape.slice(1) : [...spec.shape];
  return {
    name: spec.name,
    data_type: TRITON_TYPES[spec.datatype],
    ...(dims.length === 0 ? { dims: [1], reshape: { shape: [] } } : { dims }),
  };
}

/** The model's configuration in Triton's JSON form. */
export function modelConfig(
  model: ServedModel,
  options: Pick<
    ResolvedServerOptions,
    'maxBatchSize' | 'maxQueueDelayMs' | 'maxQueueSize' | 'requestTimeoutMs' | 'workers'
  >,
  served: ServedPolicy,
): TritonModelConfig {
  const { contract } = model;
  const maxBatchSize = isBatchable(contract) ? options.maxBatchSize : 0;
  const batched = maxBatchSize > 0;
  return {
    name: model.name,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: served.policy,
    max_batch_size: maxBatchSize,
    input: contract.inputs.map((t) => tensorConfig(t, batched)),
    output: contract.outputs.map((t) => tensorConfig(t, batched)),
    ...(batched
      ? {
          dynamic_batching: {
            max_queue_delay_microseconds: options.maxQueueDelayMs * 1000,
            // Every request gets its own answer, in whatever order the runs end.
            preserve_ordering: false,
            // A request still queued when its deadline (requestTimeoutMs) passes is dropped and answered 504.
            default_queue_policy: {
              timeout_action: 'REJECT',
              default_timeout_microseconds: options.requestTimeoutMs * 1000,
              allow_timeout_override: false,
              max_queue_size: options.maxQueueSize,
            },
          },
        }
      : {}),
    // Every worker thread holds a session of every model.
    instance_group: [{ kind: 'KIND_CPU', count: options.workers }],
    default_model_filename: 'model.onnx',
    parameters: { default_version: { string_value: String(served.defaultVersion) } },
  };
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The version policy behind what is served of `name`: the config in effect's, when applied to the versions on
 * disk it still selects exactly the served versions and default; otherwise (the directory or config.json
 * changed since the load) the served versions themselves.
 */
export async function servedPolicy(repository: ServingRepository, name: string): Promise<ServedPolicy> {
  const versions = repository.versions(name);
  const defaultVersion = repository.defaultVersion(name) ?? versions[versions.length - 1] ?? 0;
  const actual: ServedPolicy = { policy: { specific: { versions } }, defaultVersion };
  let config: ModelConfig;
  try {
    config = await repository.configOf(name);
    const selected = selectVersions(name, config, await listVersions(repository.dir, name));
    if (!same(selected.versions, versions) || selected.defaultVersion !== defaultVersion) return actual;
  } catch {
    return actual;
  }
  return { policy: config.version_policy ?? { all: {} }, defaultVersion };
}
