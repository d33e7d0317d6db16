/**
 * `batch-infer report`: a self-contained HTML report of a pipeline's latest run and its trend over the runs,
 * and of a champion/challenger comparison (`evaluate --compare-version --json`) — either, or both on one page.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BASELINE_RUNS } from '../../lib/core/trends.js';
import { writeFileAtomic } from '../../lib/io/atomic-file.js';
import { int, str, usageError, type Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';

export const reportCommand: Command = {
  name: 'report',
  summary:
    'Write a self-contained HTML report of a run history (the latest run, trends over the runs, drift, alerts) and/or of a champion/challenger comparison.',
  options: {
    history: {
      type: 'string',
      value: '<file>',
      description:
        'Run history (JSON Lines) that `batch-infer run --history` appends to. A missing or empty file, or a line that is not a run record, exits 65.',
    },
    comparison: {
      type: 'string',
      value: '<file>',
      description:
        'A champion/challenger comparison, the JSON of `batch-infer evaluate --compare-version <n> --json` (or `promote --report-json`), shown as its own section: each Δ with its bootstrap interval and whether it is beyond noise. Without --history the report is the comparison alone. A missing file, or one that is not such JSON, exits 65.',
    },
    output: {
      type: 'string',
      short: 'o',
      value: '<file|->',
      description: 'The HTML report; - writes stdout. Written atomically. Opens offline: it loads nothing.',
      default: 'report.html',
    },
    last: {
      type: 'string',
      value: '<n>',
      description: 'Runs shown in the trend charts and the run table (with --history).',
      default: String(BASELINE_RUNS),
    },
    'pipeline-name': {
      type: 'string',
      value: '<name>',
      description: 'The pipeline to report on, when several share the history (with --history).',
      default: "the latest run's",
    },
    title: {
      type: 'string',
      value: '<text>',
      description: 'Page title.',
      default: 'batch-infer: <pipeline>, or batch-infer: <model> v<n> against v<m>',
    },
  },
  examples: [
    'batch-infer report --history runs.jsonl --output report.html',
    'batch-infer report --history runs.jsonl --last 50 --pipeline-name nightly-weather -o - > nightly.html',
    'batch-infer evaluate -i new-york-2015.csv -i seattle-2015.csv --model-version 1 --compare-version 2 --json > comparison.json',
    'batch-infer report --comparison comparison.json --output comparison.html',
    'batch-infer report --history runs.jsonl --comparison comparison.json --output report.html',
  ],
  async run(values, io) {
    const history = str(values, 'history');
    const comparisonFile = str(values, 'comparison');
    if (history === undefined && comparisonFile === undefined)
      throw usageError(
        '--history or --comparison is required (the run history, JSON Lines; a comparison, JSON)',
      );
    const output = str(values, 'output') ?? 'report.html';
    for (const [flag, file] of [
      ['history', history],
      ['comparison', comparisonFile],
    ] as const) {
      if (output !== '-' && file !== undefined && resolve(output) === resolve(file))
        throw usageError(`--output must not be the --${flag} file`);
    }
    // --last and --pipeline-name choose runs: without a history there are none to choose, and the flags are
    // left unread (they may come from the environment a `run` job shares).
    const last = history === undefined ? BASELINE_RUNS : (int(values, 'last', 1) ?? BASELINE_RUNS);
    // The report's modules load only for this command: other commands' processes do not carry them.
    const [{ readRunHistory }, { readComparison }, { reportView }, { renderReport }, { loadChartLibrary }] =
      await Promise.all([
        import('../../lib/report/history-file.js'),
        import('../../lib/report/comparison-file.js'),
        import('../../lib/report/view.js'),
        import('../../lib/report/page.js'),
        import('../../lib/report/chart-library.js'),
      ]);
    const records = history === undefined ? undefined : await readRunHistory(history);
    const pipeline = history === undefined ? undefined : str(values, 'pipeline-name');
    if (records !== undefined && pipeline !== undefined) {
      const pipelines = [...new Set(records.map((r) => r.pipeline))];
      if (!pipelines.includes(pipeline))
        throw usageError(
          `--pipeline-name "${pipeline}" has no runs in ${history}; it holds ${pipelines.map((p) => `"${p}"`).join(', ')}`,
        );
    }
    const comparison = comparisonFile === undefined ? undefined : await readComparison(comparisonFile);
    const title = str(values, 'title');
    const view = reportView(
      {
        ...(records === undefined ? {} : { history: records }),
        ...(comparison === undefined ? {} : { comparison }),
      },
      {
        last,
        generatedAt: new Date(),
        ...(pipeline === undefined ? {} : { pipeline }),
        ...(title === undefined ? {} : { title }),
      },
    );
    const page = renderReport(view, await loadChartLibrary());
    if (output === '-') {
      io.stdout.write(page);
    } else {
      await mkdir(dirname(output), { recursive: true });
      await writeFileAtomic(output, page);
      const parts = [
        view.history === null
          ? undefined
          : `${view.history.runs.length} of ${view.history.total} runs of ${view.history.pipeline}`,
        view.comparison === null ? undefined : `the comparison of ${view.comparison.model}`,
      ].filter((p) => p !== undefined);
      io.logger.info(
        {
          output,
          ...(view.history === null
            ? {}
            : { runs: view.history.runs.length, pipeline: view.history.pipeline }),
          ...(view.comparison === null
            ? {}
            : { comparison: view.comparison.model, sets: view.comparison.sets.length }),
        },
        `wrote the report of ${parts.join(' and ')} to ${output}`,
      );
    }
    return EXIT_OK;
  },
};
