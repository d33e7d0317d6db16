/** `batch-infer report`: a self-contained HTML report of a pipeline's latest run and its trend over the runs. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BASELINE_RUNS } from '../../lib/core/trends.js';
import { writeFileAtomic } from '../../lib/io/atomic-file.js';
import { loadChartLibrary } from '../../lib/report/chart-library.js';
import { readRunHistory } from '../../lib/report/history-file.js';
import { renderReport } from '../../lib/report/page.js';
import { reportView } from '../../lib/report/view.js';
import { int, str, usageError, type Command } from './command.js';
import { EXIT_OK } from './exit-codes.js';

export const reportCommand: Command = {
  name: 'report',
  summary:
    'Write a self-contained HTML report of a run history: the latest run, trends over the runs, drift, alerts.',
  options: {
    history: {
      type: 'string',
      value: '<file>',
      description:
        'Run history (JSON Lines) that `batch-infer run --history` appends to. A missing or empty file, or a line that is not a run record, exits 65.',
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
      description: 'Runs shown in the trend charts and the run table.',
      default: String(BASELINE_RUNS),
    },
    'pipeline-name': {
      type: 'string',
      value: '<name>',
      description: 'The pipeline to report on, when several share the history.',
      default: "the latest run's",
    },
    title: {
      type: 'string',
      value: '<text>',
      description: 'Page title.',
      default: 'batch-infer: <pipeline>',
    },
  },
  examples: [
    'batch-infer report --history runs.jsonl --output report.html',
    'batch-infer report --history runs.jsonl --last 50 --pipeline-name nightly-weather -o - > nightly.html',
  ],
  async run(values, io) {
    const history = str(values, 'history');
    if (history === undefined) throw usageError('--history is required (the run history, JSON Lines)');
    const output = str(values, 'output') ?? 'report.html';
    if (output !== '-' && resolve(output) === resolve(history))
      throw usageError('--output must not be the --history file');
    const last = int(values, 'last', 1) ?? BASELINE_RUNS;
    const records = await readRunHistory(history);
    const pipelines = [...new Set(records.map((r) => r.pipeline))];
    const pipeline = str(values, 'pipeline-name');
    if (pipeline !== undefined && !pipelines.includes(pipeline))
      throw usageError(
        `--pipeline-name "${pipeline}" has no runs in ${history}; it holds ${pipelines.map((p) => `"${p}"`).join(', ')}`,
      );
    const title = str(values, 'title');
    const view = reportView(records, {
      last,
      generatedAt: new Date(),
      ...(pipeline === undefined ? {} : { pipeline }),
      ...(title === undefined ? {} : { title }),
    });
    const page = renderReport(view, await loadChartLibrary());
    if (output === '-') {
      io.stdout.write(page);
    } else {
      await mkdir(dirname(output), { recursive: true });
      await writeFileAtomic(output, page);
      io.logger.info(
        { output, runs: view.runs.length, pipeline: view.pipeline },
        `wrote the report of ${view.runs.length} of ${view.total} runs of ${view.pipeline} to ${output}`,
      );
    }
    return EXIT_OK;
  },
};
