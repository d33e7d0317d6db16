/**
 * `batch-infer evaluate`: score a labelled file and report accuracy, macro-F1, per-class precision / recall /
 * F1, log loss and the confusion matrix — as a table, or as JSON with `--json`. With `--compare-version`, score
 * each labelled file with two versions at once (a champion/challenger run) and report the comparison: deltas
 * with paired bootstrap intervals, per-class figures and both confusions, as Markdown or JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { comparisonMarkdown } from '../../lib/core/compare.js';
import type { ClassificationReport } from '../../lib/core/metrics.js';
import { compareVersions, evaluateScoredCsv, modelContract } from '../../lib/evaluate.js';
import { createPipeline } from '../../lib/pipeline.js';
import { BUNDLED_MODELS_DIR } from '../../lib/model-files.js';
import { EXIT_OK } from './exit-codes.js';
import { int, list, names, str, usageError, type Command } from './command.js';
import { MODEL_FLAGS } from './model-flags.js';
import { stylesFor, type Styles } from './terminal.js';

/** The report as a table; on a terminal with colour, headings bold, the confusion's diagonal (right) green. */
function table(report: ClassificationReport, labels: readonly string[], style: Styles): string {
  const f = (x: number) => x.toFixed(4);
  const width = Math.max(8, ...labels.map((l) => l.length)) + 2;
  const lines = [
    `rows       ${report.rows}`,
    `accuracy   ${style.bold(f(report.accuracy))}`,
    `macro-F1   ${style.bold(f(report.macro_f1))}`,
    `log loss   ${report.log_loss === null ? 'n/a' : f(report.log_loss)}`,
    '',
    style.bold(`${'class'.padEnd(width)}precision  recall     f1         support`),
    ...report.per_class.map(
      (m) =>
        `${m.label.padEnd(width)}${f(m.precision).padEnd(11)}${f(m.recall).padEnd(11)}${f(m.f1).padEnd(11)}${m.support}`,
    ),
    '',
    style.bold(`confusion (rows: true, columns: predicted)`),
    `${''.padEnd(width)}${labels.map((l) => l.padStart(width)).join('')}`,
    ...report.confusion.map(
      (row, i) =>
        `${(labels[i] ?? '').padEnd(width)}${row
          .map((n, j) => {
            const cell = String(n).padStart(width);
            return i === j ? style.green(cell) : n === 0 ? style.dim(cell) : cell;
          })
          .join('')}`,
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
      multiple: true,
      value: '<file>',
      description:
        'Labelled input CSV with a header row. With --compare-version, repeat it to compare on several sets.',
    },
    target: {
      type: 'string',
      value: '<column>',
      description: 'Column holding the true label.',
      default: "the model's target (weather)",
    },
    features: {
      type: 'string',
      value: '<a,b,…>',
      description: "The K columns, in order, that feed a model's one [N, K] input (as run --features).",
    },
    ...MODEL_FLAGS,
    'compare-version': {
      type: 'string',
      value: '<n>',
      description:
        'Also score with this version (the challenger; --model-version is the champion, required with --url) and report the comparison: deltas with 95 % paired bootstrap intervals, per-class figures and confusions, as Markdown.',
      default: 'none',
    },
    json: { type: 'boolean', description: 'Print the report (or the comparison) as JSON.' },
  },
  examples: [
    'batch-infer evaluate --input labelled.csv',
    'batch-infer evaluate -i labelled.csv --url http://127.0.0.1:8080 --model weather --json | jq .accuracy',
    'batch-infer evaluate -i new-york-2015.csv -i seattle-2015.csv --model-version 1 --compare-version 2',
  ],
  async run(values, io) {
    const inputs = list(values, 'input');
    if (inputs.length === 0) throw usageError('--input is required (a labelled CSV file)');
    const url = str(values, 'url');
    const model = str(values, 'model') ?? 'weather';
    const modelVersion = int(values, 'model-version', 1);
    const challenger = int(values, 'compare-version', 1);
    const models = str(values, 'models') ?? BUNDLED_MODELS_DIR;
    const features = names(values, 'features');
    if (challenger !== undefined) {
      const comparison = await compareVersions({
        inputs,
        model,
        challenger,
        models,
        signal: io.signal,
        ...(modelVersion === undefined ? {} : { champion: modelVersion }),
        ...(url === undefined ? {} : { url }),
        ...(features === undefined ? {} : { features }),
        ...(str(values, 'target') === undefined ? {} : { target: str(values, 'target') as string }),
      });
      io.stdout.write(
        values.json === true ? `${JSON.stringify(comparison, null, 2)}\n` : comparisonMarkdown(comparison),
      );
      return EXIT_OK;
    }
    const [input, ...more] = inputs as [string, ...string[]];
    if (more.length > 0)
      throw usageError(
        '--input is given several times: evaluate one file, or compare sets with --compare-version',
      );
    const contract = await modelContract({ model, version: modelVersion, url, models, signal: io.signal });
    if (contract.labels.length === 0)
      throw usageError(
        `evaluate reports classification metrics, and model ${model} is not a classifier (no labels)`,
      );
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
        ...(features === undefined ? {} : { features }),
      });
      const report = await evaluateScoredCsv(output, contract.labels, target);
      io.stdout.write(
        values.json === true
          ? `${JSON.stringify({ model, target, ...report }, null, 2)}\n`
          : table(report, contract.labels, stylesFor(io.stdout, io.env)),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return EXIT_OK;
  },
};
