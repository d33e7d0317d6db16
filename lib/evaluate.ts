/**
 * Scores a scored CSV (the pipeline's output) against its true labels: reads the target column, `prediction`
 * and the `probability_<label>` columns, streaming, and returns the classification report. For a
 * champion/challenger output it reads the `challenger_` columns too, and `compareVersions` runs the whole
 * comparison: each labelled file scored once by both versions, then lib/core/compare.ts.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parse } from 'csv-parse';
import { BatchInferError, ErrorCodes, show } from './errors.js';
import {
  compareModels,
  type BootstrapOptions,
  type LabelledPredictions,
  type ModelComparison,
} from './core/compare.js';
import { classificationReport, type ClassificationReport } from './core/metrics.js';
import type { ModelContract } from './core/model-contract.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from './model-files.js';
import { fetchContract } from './model-source.js';
import { CHALLENGER_PREFIX } from './monitoring/shadow-output.js';
import { createPipeline } from './pipeline.js';

/**
 * The truth and each model's predictions in a scored CSV, one entry per column prefix: `''` for `prediction`
 * and `probability_<label>`, `'challenger_'` for a champion/challenger run's challenger. Rows whose true label
 * is not one of the model's labels cannot be judged and are left out.
 */
export async function readScoredCsv(
  path: string,
  labels: readonly string[],
  target: string,
  prefixes: readonly string[] = [''],
): Promise<LabelledPredictions[]> {
  const truth: number[] = [];
  const models = prefixes.map(() => ({ predicted: [] as number[], probabilities: [] as number[] }));
  const parser = createReadStream(path).pipe(parse({ columns: true, bom: true, skip_empty_lines: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    const predicted = prefixes.map((prefix) => labels.indexOf(row[`${prefix}prediction`] ?? ''));
    const missing = prefixes.find((_, m) => predicted[m] === -1);
    if (missing !== undefined || !(target in row)) {
      throw new BatchInferError(
        ErrorCodes.BAD_RECORD,
        `${show(path)} lacks a valid ${show(target)} or ${missing ?? ''}prediction column`,
      );
    }
    const t = labels.indexOf(row[target] ?? '');
    if (t === -1) continue;
    truth.push(t);
    prefixes.forEach((prefix, m) => {
      const model = models[m] as (typeof models)[number];
      model.predicted.push(predicted[m] as number);
      for (const label of labels) model.probabilities.push(Number(row[`${prefix}probability_${label}`]));
    });
  }
  return models.map((m) => ({ truth, predicted: m.predicted, probabilities: m.probabilities }));
}

export async function evaluateScoredCsv(
  path: string,
  labels: readonly string[],
  target: string,
): Promise<ClassificationReport> {
  const [scored] = (await readScoredCsv(path, labels, target)) as [LabelledPredictions];
  return classificationReport(labels, scored.truth, scored.predicted, scored.probabilities);
}

/** The model's contract, from the server when there is one, else from the repository. */
export async function modelContract(o: {
  model: string;
  version?: number | undefined;
  url?: string | undefined;
  models?: string | undefined;
  signal?: AbortSignal | undefined;
}): Promise<ModelContract> {
  return o.url === undefined
    ? (await readModelVersion(o.models ?? BUNDLED_MODELS_DIR, o.model, o.version)).contract
    : (await fetchContract(o.url, o.model, o.version, o.signal)).contract;
}

export interface CompareVersionsOptions {
  /** Labelled CSV files: each one set of the comparison, named after its file name without extension. */
  inputs: readonly string[];
  /** @default "weather" */
  model?: string;
  /** The champion's version. Required with `url`. @default the model's default version */
  champion?: number;
  /** The challenger's version. Required. */
  challenger: number;
  /** Model server base URL. @default none: both versions run in process */
  url?: string;
  /** Model repository for in-process scoring. @default the bundled one */
  models?: string;
  /** Column holding the true label. @default the model's target */
  target?: string;
  /** The K columns of a model's one `[N, K]` input (the pipeline's `features`). @default the model's own */
  features?: readonly string[];
  /** @default DEFAULT_BOOTSTRAP */
  bootstrap?: Partial<BootstrapOptions>;
  signal?: AbortSignal;
}

/**
 * Scores every input once with a champion/challenger run (each batch to both versions) and compares the two
 * versions' predictions on each. Over HTTP, the server must serve both versions.
 */
export async function compareVersions(o: CompareVersionsOptions): Promise<ModelComparison> {
  const model = o.model ?? 'weather';
  // A server's metadata lists its versions but not which one answers by default, so the comparison could not
  // say which version the champion was.
  if (o.url !== undefined && o.champion === undefined)
    throw new BatchInferError(
      ErrorCodes.INVALID_OPTION,
      'Comparing through a server needs the champion version named (`champion`, `--model-version`)',
      { context: { option: 'champion' } },
    );
  const contract = await modelContract({ ...o, model, version: o.champion });
  const target = o.target ?? contract.target;
  if (target === undefined)
    throw new BatchInferError(ErrorCodes.INVALID_OPTION, `Model ${show(model)} names no target column`, {
      context: { option: 'target' },
    });
  const dir = await mkdtemp(join(tmpdir(), 'batch-infer-compare-'));
  try {
    let champion: number | null = o.champion ?? null;
    const sets = [];
    for (const [i, input] of o.inputs.entries()) {
      const output = join(dir, `${i}.csv`);
      const summary = await createPipeline({
        input,
        output,
        model,
        shadowVersion: o.challenger,
        summary: false,
        metricsFile: false,
        ...(o.champion === undefined ? {} : { modelVersion: o.champion }),
        ...(o.url === undefined ? {} : { url: o.url }),
        ...(o.models === undefined ? {} : { models: o.models }),
        ...(o.features === undefined ? {} : { features: o.features }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
      champion = summary.model.version ?? null;
      const [a, b] = (await readScoredCsv(output, contract.labels, target, ['', CHALLENGER_PREFIX])) as [
        LabelledPredictions,
        LabelledPredictions,
      ];
      sets.push({ name: basename(input, extname(input)), champion: a, challenger: b });
    }
    return compareModels(model, { champion, challenger: o.challenger }, contract.labels, sets, o.bootstrap);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
