/**
 * `batch-infer evaluate`: score a labelled file and report accuracy, macro-F1, per-class precision / recall /
 * F1, log loss and the confusion matrix — as a table, or as JSON with `--json`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClassificationReport } from '../../lib/core/metrics.js';
import { evaluateScoredCsv } from '../../lib/evaluate.js';
import { createPipeline } from '../../lib/pipeline.js';
import { fetchContract } from '../../lib/model-source.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../../lib/model-files.js';
import { EXIT_OK } from './exit-codes.js';
import { int, str, usageError, type Command } from './command.js';
import { MODEL_FLAGS } from './model-flags.js';

function table(report: ClassificationReport, labels: readonly string[]): string {
  const f = (x: number) => x.toFixed(4);
  const width = Math.max(8, ...labels.map((l) => l.length)) + 2;
  const lines = [
    `rows       ${report.rows}`,
    `accuracy   ${f(report.accuracy)}`,
    `macro-F1   ${f(report.macro_f1)}`,
    `log loss   ${report.log_loss === null ? 'n/a' : f(report.log_loss)}`,
    '',
    `${'class'.padEnd(width)}precision  recall     f1         support`,
    ...report.per_class.map(
      (m) =>
        `${m.label.padEnd(width)}${f(m.precision).padEnd(11)}${f(m.recall).padEnd(11)}${f(m.f1).padEnd(11)}${m.support}`,
    ),
    '',
    `confusion (rows: true, columns: predicted)`,
    `${''.padEnd(width)}${labels.map((l) => l.padStart(width)).join('')}`,
    ...report.confusion.map(
      (row, i) => `${(labels[i] ?? '').padEnd(width)}${row.map((n) => String(n).padStart(width)).join('')}`,
    ),
    '',
  ];
  return lines.join('\n');
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary:
    'Score a labelled CSV and report accuracy, macro-F1, per-class precision/recall/F1, log loss and the confusion matrix.',
  options: {
    input: {
      type: 'string',
      short: 'i',
      value: '<file>',
      description: 'Labelled input CSV with a header row.',
    },
    target: {
      type: 'string',
      value: '<column>',
      description: 'Column holding the true label.',
      default: "the model's target (weather)",
    },
    ...MODEL_FLAGS,
    json: { type: 'boolean', description: 'Print the report as JSON.' },
  },
  examples: [
    'batch-infer evaluate --input labelled.csv',
    'batch-infer evaluate -i labelled.csv --url http://127.0.0.1:8080 --model weather --json | jq .accuracy',
  ],
  async run(values, io) {
    const input = str(values, 'input');
    if (input === undefined) throw usageError('--input is required (a labelled CSV file)');
    const url = str(values, 'url');
    const model = str(values, 'model') ?? 'weather';
    const modelVersion = int(values, 'model-version', 1);
    const models = str(values, 'models') ?? BUNDLED_MODELS_DIR;
    const contract =
      url === undefined
        ? (await readModelVersion(models, model, modelVersion)).contract
        : (await fetchContract(url, model, modelVersion)).contract;
    const target = str(values, 'target') ?? contract.target;
    if (target === undefined) throw usageError(`--target is required: model ${model} names no target column`);
    const dir = await mkdtemp(join(tmpdir(), 'batch-infer-evaluate-'));
    try {
      const output = join(dir, 'scored.csv');
      await createPipeline({
        input,
        output,
        model,
        models,
        signal: io.signal,
        ...(url === undefined ? {} : { url }),
        ...(modelVersion === undefined ? {} : { modelVersion }),
      });
      const report = await evaluateScoredCsv(output, contract.labels, target);
      io.stdout.write(
        values.json === true
          ? `${JSON.stringify({ model, target, ...report }, null, 2)}\n`
          : table(report, contract.labels),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return EXIT_OK;
  },
};
