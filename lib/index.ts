/**
 * batch-infer — the pipeline library. `createPipeline` runs the usual job; the stage classes compose with
 * `stream.pipeline` for anything else.
 */
export { createPipeline, type RunSummary, type PipelineOptions } from './pipeline.js';
export { PROTOCOLS, INPUT_FORMATS, type Protocol, type InputFormat } from './pipeline-options.js';
export type { Progress } from './core/progress.js';
export { Preprocessor, type PreprocessorOptions } from './streams/preprocessor.js';
export { planInputs, type InputPlan, type RowWriter } from './core/input-plan.js';
export {
  planOutputs,
  classifierPlan,
  type OutputPlan,
  type ClassifierOutputs,
  type ColumnOutput,
} from './core/output-plan.js';
export type { Tensor, TensorData, TypedTensorData } from './core/tensor.js';
export { Batcher, type BatcherOptions } from './streams/batcher.js';
export { ModelScorer, type ModelScorerOptions } from './streams/model-scorer.js';
export { Postprocessor, type PostprocessorOptions, formatProbability } from './streams/postprocessor.js';
export { createCsvParser } from './io/csv-source.js';
export { JsonlParser } from './io/jsonl-source.js';
export {
  isColumnBatch,
  isRecordSink,
  isRecordSource,
  type Cell,
  type Column,
  type ColumnBatch,
  type ColumnType,
  type RecordSink,
  type RecordSource,
  type RowBatch,
  type SourceSize,
  type TextRecord,
} from './io/table.js';
export { parquetSource, type ByteRangeReader, type ParquetSourceOptions } from './io/parquet-source.js';
export { parquetSink, type ParquetCompression, type ParquetSinkOptions } from './io/parquet-sink.js';
export { postgresSource, type PostgresSourceOptions } from './io/postgres-source.js';
export { postgresSink, type PostgresSinkOptions, type IfExists } from './io/postgres-sink.js';
export { DATA_FORMATS, redactUrl, type DataFormat } from './io/locations.js';
export {
  createHttpScorer,
  type HttpScorerOptions,
  type RetryEvent,
  type AttemptEvent,
} from './adapters/http-scorer.js';
export { createLocalScorer } from './adapters/local-scorer.js';
export { v2JsonCodec } from './adapters/v2-json.js';
export { v2BinaryCodec } from './adapters/v2-binary.js';
export { vertexCodec } from './adapters/vertex.js';
export { sagemakerCodec } from './adapters/sagemaker.js';
export type { BatchScorer, HttpCodec, HttpRequestSpec, HttpResponse } from './adapters/types.js';
export { fetchContract } from './model-source.js';
export { profileModel, type ProfileOptions, type ProfileResult } from './profile-model.js';
export {
  readModelVersion,
  readModelArgument,
  listModels,
  listVersions,
  BUNDLED_MODELS_DIR,
  readModelConfig,
  parseModelConfig,
  selectVersions,
  type ModelVersionFiles,
  type ModelConfig,
  type VersionPolicy,
  type ServedVersions,
} from './model-files.js';
export {
  compareModels,
  compareOnSet,
  comparisonMarkdown,
  disagreementOf,
  DEFAULT_BOOTSTRAP,
  type BootstrapOptions,
  type Disagreement,
  type LabelledPredictions,
  type MetricDelta,
  type ModelComparison,
  type SetComparison,
} from './core/compare.js';
export {
  compareVersions,
  evaluateScoredCsv,
  readScoredCsv,
  type CompareVersionsOptions,
} from './evaluate.js';
export {
  computeFeatures,
  requiredColumns,
  type FeatureSpec,
  type FeatureTransform,
  type FeatureResult,
} from './core/features.js';
export {
  validateContract,
  type ModelContract,
  type TensorSpec,
  type Datatype,
} from './core/model-contract.js';
export { classificationReport, type ClassificationReport, type ClassMetrics } from './core/metrics.js';
export type { ReferenceProfile, FeatureProfile } from './core/profile.js';
export type { DriftReport, FeatureDrift, DriftLevel } from './core/drift.js';
export { evaluateRules, type Alert } from './core/trends.js';
export type { RunRecord, QualityReport } from './monitoring/run-record.js';
export { STAGES, type Stage, type LatencySummary } from './monitoring/run-stats.js';
export type { Shard } from './core/shard.js';
export {
  BatchInferError,
  ErrorCodes,
  isBatchInferError,
  type ErrorCode,
  type ErrorContext,
} from './errors.js';
export type { SourceRecord, PreparedRow, FeaturizedRow, RejectedRow, Batch, ScoredBatch } from './types.js';
export { formatTraceparent, newTraceId, parseTraceparent, type TraceParent } from './core/trace-context.js';
export { VERSION } from './version.js';
