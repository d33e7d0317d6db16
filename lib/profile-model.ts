/**
 * `batch-infer profile`: a model's reference profile from its training data — each monitored feature's quantile
 * bins, range and missing ratio, and the share of each predicted label — written into its model.json, so that
 * drift, data quality, the HTML report and alerts work for any model as they do for the bundled one. The rows
 * are read with the run's own input plan (lib/core/input-plan.ts), so the profile describes exactly the values a
 * run will compare with it, and scored in process.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { BatchInferError, ErrorCodes, show } from './errors.js';
import { planInputs } from './core/input-plan.js';
import { argmaxRow } from './core/metrics.js';
import { isObject } from './core/model-contract.js';
import { planOutputs } from './core/output-plan.js';
import { float32Data } from './core/output-values.js';
import { labelShares, profileFeature, type ReferenceProfile } from './core/profile.js';
import { RowPreparer } from './core/row-preparer.js';
import { sliceRows, type Tensor } from './core/tensor.js';
import { writeFileAtomic } from './io/atomic-file.js';
import { expandInputs, inputSource, openRecords } from './io/sources.js';
import { readModelVersion } from './model-files.js';
import type { InputFormat } from './pipeline-options.js';
import type { SourceRecord } from './types.js';

export interface ProfileOptions {
  /** Training data: CSV or JSON Lines files. */
  input: readonly string[];
  inputFormat?: InputFormat;
  /** Model repository. */
  models: string;
  model: string;
  /** @default the model's default version */
  version?: number;
  /** The K columns of a model's one `[N, K]` input; written into model.json's `features` as well. */
  features?: readonly string[];
}

export interface ProfileResult {
  reference: ReferenceProfile;
  /** The model.json written. */
  path: string;
  /** Rows profiled, and rows left out because a value could not be read. */
  rows: { profiled: number; rejected: number };
}

const BATCH = 4096;

export async function profileModel(options: ProfileOptions): Promise<ProfileResult> {
  const files = await readModelVersion(options.models, options.model, options.version);
  const { contract } = files;
  const plan = planInputs(contract, options.features);
  const outputs = planOutputs(contract);
  const classifier = outputs.classifier;
  const monitored = plan.monitored;
  const values: number[][] = monitored.map(() => []);
  const missing = monitored.map(() => 0);
  const predicted: number[] = [];
  let rejected = 0;
  // The preparer hands each row's raw values over before it decides the row; only scored rows are profiled.
  let raw: Float64Array = new Float64Array(0);
  const rows = new RowPreparer({
    plan,
    onReject: () => rejected++,
    onRaw: (values) => (raw = values),
    skipRows: 0,
  });
  // onnxruntime loads only when there are predictions to profile (and only for this command).
  const model =
    classifier === undefined
      ? undefined
      : await (await import('./onnx/loaded-model.js')).LoadedModel.load(files);
  let batch = plan.allocate(BATCH);
  let n = 0;
  const score = async (tensors: Tensor[]): Promise<void> => {
    if (model === undefined || classifier === undefined) return;
    const result = await model.run(tensors, [classifier.probabilities]);
    const probabilities = float32Data(result[0] as Tensor);
    const k = classifier.labels.length;
    for (let i = 0; i < (tensors[0]?.shape[0] ?? 0); i++) predicted.push(argmaxRow(probabilities, i, k));
  };
  try {
    const inputs = await expandInputs(options.input);
    const none = {
      inputFormat: options.inputFormat,
      query: undefined,
      inputTable: undefined,
      shardBy: undefined,
    };
    const source = openRecords(
      await Promise.all(inputs.map((i) => inputSource(i, none, () => undefined))),
      options.inputFormat,
      () => undefined,
    );
    const pending: Promise<void>[] = [];
    source.on('data', (record: SourceRecord) => {
      const row = rows.prepare(record, batch, n);
      if (row === undefined) return;
      raw.forEach((v, i) => {
        if (Number.isNaN(v)) missing[i] = (missing[i] ?? 0) + 1;
        else values[i]?.push(v);
      });
      if (++n === BATCH) {
        source.pause();
        const full = batch;
        batch = plan.allocate(BATCH);
        n = 0;
        pending.push(score(full).finally(() => source.resume()));
      }
    });
    await finished(source);
    await Promise.all(pending);
    if (n > 0) await score(sliceRows(batch, 0, n));
  } finally {
    await model?.close();
  }
  const profiled = rows.counts.prepared;
  if (profiled === 0)
    throw new BatchInferError(
      ErrorCodes.BAD_RECORD,
      `No row of ${options.input.join(', ')} could be read for model ${show(contract.name)}`,
    );
  const reference: ReferenceProfile = {
    rows: profiled,
    features: monitored.map((f, i) => profileFeature(f.name, values[i] ?? [], missing[i] ?? 0)),
    predictions: classifier === undefined ? {} : labelShares(classifier.labels, predicted),
  };
  const path = join(files.dir, 'model.json');
  await writeModelJson(path, contract.name, reference, options.features);
  return { reference, path, rows: { profiled, rejected } };
}

/** Sets `reference` (and `features`, when given and model.json has none) in model.json, creating it if needed. */
async function writeModelJson(
  path: string,
  name: string,
  reference: ReferenceProfile,
  features: readonly string[] | undefined,
): Promise<void> {
  let json: Record<string, unknown> = { format: 1, name };
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (isObject(parsed)) json = parsed;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  }
  if (
    features !== undefined &&
    (json.features === undefined || (Array.isArray(json.features) && json.features.length === 0))
  )
    json.features = features.map((column) => ({ name: column, column }));
  json.reference = reference;
  await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
}
