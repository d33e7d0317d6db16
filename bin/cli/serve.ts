/** `batch-infer serve`: the model server, until SIGTERM or SIGINT, which drain in-flight requests. */
import { createModelServer } from '../../server/index.js';
import { EXIT_OK } from './exit-codes.js';
import { int, str, type Command } from './command.js';
import { listen } from './listen.js';

/** The port: --port, then the platform variables the container contracts define, then 8080. */
function portFrom(flag: number | undefined, env: NodeJS.ProcessEnv): number {
  if (flag !== undefined) return flag;
  for (const name of ['PORT', 'AIP_HTTP_PORT', 'SAGEMAKER_BIND_TO_PORT']) {
    const value = env[name];
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return 8080;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve a model repository over the Open Inference Protocol V2 (KServe / Triton REST).',
  options: {
    models: {
      type: 'string',
      value: '<dir>',
      description: 'Model repository: <dir>/<model>/<version>/model.onnx + model.json.',
      default: 'the bundled models',
    },
    port: {
      type: 'string',
      short: 'p',
      value: '<n>',
      description: 'Port; else PORT, AIP_HTTP_PORT or SAGEMAKER_BIND_TO_PORT.',
      default: '8080',
    },
    host: { type: 'string', value: '<address>', description: 'Address to listen on.', default: '0.0.0.0' },
  },
  examples: ['batch-infer serve', 'batch-infer serve --models ./models --port 9000 --host 127.0.0.1'],
  async run(values, io) {
    const models = str(values, 'models');
    const modelServer = createModelServer({ logger: io.logger, ...(models === undefined ? {} : { models }) });
    const listening = await listen(
      modelServer,
      portFrom(int(values, 'port', 0), io.env),
      str(values, 'host') ?? '0.0.0.0',
    );
    io.logger.info({ url: listening.url }, `listening on ${listening.url}`);
    await modelServer.loaded;
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.logger.info('shutting down: draining in-flight requests');
    await listening.close();
    return EXIT_OK;
  },
};
