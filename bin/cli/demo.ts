/**
 * `batch-infer demo`: the whole system in one command. Starts the model server in process on a free port,
 * scores the bundled weather data through the pipeline over real HTTP, writes
 * `batch-infer-demo/predictions.csv`, prints a summary with accuracy, and stops the server.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline } from '../../lib/pipeline.js';
import { evaluateScoredCsv } from '../../lib/evaluate.js';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { BUNDLED_MODELS_DIR, readModelVersion } from '../../lib/model-files.js';
import { EXIT_OK } from './exit-codes.js';
import { str, type Command } from './command.js';
import { listen } from './listen.js';

export const DEMO_INPUT = join(PACKAGE_ROOT, 'data', 'weather.csv');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Serve the bundled weather model, score the bundled data over HTTP, and report accuracy.',
  options: {
    'output-dir': {
      type: 'string',
      value: '<dir>',
      description: 'Where predictions.csv and rejects.csv go.',
      default: 'batch-infer-demo',
    },
  },
  examples: ['batch-infer demo', 'npx batch-infer demo --output-dir /tmp/demo'],
  async run(values, io) {
    const dir = str(values, 'output-dir') ?? 'batch-infer-demo';
    await mkdir(dir, { recursive: true });
    // The demo's own summary is what a person reads; the server's info lines would only bury it.
    const { createModelServer } = await import('../../server/index.js'); // loaded only to serve (see serve.ts)
    const modelServer = createModelServer({ logger: io.logger.child({}, { level: 'warn' }) });
    const listening = await listen(modelServer, 0, '127.0.0.1');
    try {
      await modelServer.loaded;
      io.logger.debug({ url: listening.url }, 'demo server listening');
      const output = join(dir, 'predictions.csv');
      const summary = await createPipeline({
        input: DEMO_INPUT,
        output,
        rejects: join(dir, 'rejects.csv'),
        url: listening.url,
        model: 'weather',
        signal: io.signal,
      });
      const { contract } = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
      const report = await evaluateScoredCsv(output, contract.labels, contract.target ?? 'weather');
      const lines = [
        `batch-infer demo: scored ${DEMO_INPUT}`,
        `  server     ${listening.url} (model ${summary.model.name} v${summary.model.version ?? '?'}, protocol ${summary.protocol})`,
        `  rows       ${summary.rows.read} read, ${summary.rows.scored} scored, ${summary.rows.rejected} rejected`,
        `  speed      ${summary.throughput_rows_per_s} rows/s (${summary.timings.duration_ms} ms)`,
        `  accuracy   ${report.accuracy.toFixed(4)} against the "weather" column (macro-F1 ${report.macro_f1.toFixed(4)})`,
        `  output     ${output}`,
        '',
      ];
      io.stdout.write(lines.join('\n'));
    } finally {
      await listening.close();
    }
    return EXIT_OK;
  },
};
