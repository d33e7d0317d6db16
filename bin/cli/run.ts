/** `batch-infer run`: score a CSV file against a model server, or in process without `--url`. */
import { createPipeline } from '../../lib/pipeline.js';
import { PROTOCOLS, type Protocol } from '../../lib/pipeline-options.js';
import { parseDuration } from '../../lib/core/duration.js';
import { EXIT_OK } from './exit-codes.js';
import { int, str, usageError, type Command } from './command.js';

export const runCommand: Command = {
  name: 'run',
  summary:
    'Score a CSV file with a model: over HTTP against a model server (--url), or in process without one.',
  options: {
    input: {
      type: 'string',
      short: 'i',
      value: '<file|->',
      description: 'Input CSV with a header row; - reads stdin.',
    },
    output: {
      type: 'string',
      short: 'o',
      value: '<file|->',
      description: 'Output CSV; - writes stdout. Written atomically.',
    },
    url: {
      type: 'string',
      value: '<url>',
      description: 'Model server base URL (Open Inference Protocol V2).',
      default: 'none: score in process',
    },
    model: { type: 'string', short: 'm', value: '<name>', description: 'Model name.', default: 'weather' },
    'model-version': { type: 'string', value: '<n>', description: 'Model version.', default: 'latest' },
    models: {
      type: 'string',
      value: '<dir>',
      description: 'Model repository for in-process scoring.',
      default: 'the bundled models',
    },
    protocol: {
      type: 'string',
      value: `<${PROTOCOLS.join('|')}>`,
      description: 'How batches reach the model.',
      default: 'v2-json with --url, else local',
    },
    'batch-size': { type: 'string', value: '<n>', description: 'Rows per request.', default: '256' },
    concurrency: { type: 'string', value: '<n>', description: 'Requests in flight at most.', default: '4' },
    timeout: {
      type: 'string',
      value: '<duration>',
      description: 'Per-request timeout: 250ms, 2s, 1m; a bare number is ms.',
      default: '30s',
    },
    rejects: {
      type: 'string',
      value: '<file>',
      description: 'Rejected rows CSV (original columns, line, error).',
      default: '<output>.rejects.csv',
    },
    'max-reject-ratio': {
      type: 'string',
      value: '<0..1>',
      description: 'Fail (exit 65) when more rows than this share are rejected.',
      default: '1',
    },
  },
  examples: [
    'batch-infer run --input data.csv --output scored.csv',
    'batch-infer run -i data.csv -o scored.csv --url http://127.0.0.1:8080 --model weather --concurrency 8',
    'cat data.csv | batch-infer run --input - --output - > scored.csv',
  ],
  async run(values, io) {
    const input = str(values, 'input');
    const output = str(values, 'output');
    if (input === undefined) throw usageError('--input is required (a file, or - for stdin)');
    if (output === undefined) throw usageError('--output is required (a file, or - for stdout)');
    const protocol = str(values, 'protocol');
    if (protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(protocol)) {
      throw usageError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got "${protocol}"`);
    }
    const timeoutText = str(values, 'timeout');
    const timeout = timeoutText === undefined ? undefined : parseDuration(timeoutText);
    if (timeout === undefined && timeoutText !== undefined)
      throw usageError(`--timeout must be a duration like 250ms, 2s or 1m, got "${timeoutText}"`);
    const ratioText = str(values, 'max-reject-ratio');
    const ratio = ratioText === undefined ? undefined : Number(ratioText);
    if (ratio !== undefined && !(ratio >= 0 && ratio <= 1))
      throw usageError(`--max-reject-ratio must be a number from 0 to 1, got "${ratioText}"`);
    const optional = {
      url: str(values, 'url'),
      model: str(values, 'model'),
      modelVersion: int(values, 'model-version', 1),
      models: str(values, 'models'),
      protocol: protocol as Protocol | undefined,
      batchSize: int(values, 'batch-size', 1),
      concurrency: int(values, 'concurrency', 1),
      timeout: timeout === 0 ? undefined : timeout,
      rejects: str(values, 'rejects'),
      maxRejectRatio: ratio,
    };
    const summary = await createPipeline({
      input,
      output,
      signal: io.signal,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    });
    io.logger.info({ summary }, `scored ${summary.rows.scored} rows, rejected ${summary.rows.rejected}`);
    return EXIT_OK;
  },
};
