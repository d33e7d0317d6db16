import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandArgs, type Command } from '../../bin/cli/command.js';
import { serveCommand } from '../../bin/cli/serve.js';
import { tempDir } from '../helpers.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}, command: Command = serveCommand) =>
  parseCommandArgs(command, args, env);

t.test('flags win over environment variables, which win over the config file', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, 'serve.json');
  await writeFile(config, JSON.stringify({ port: 7000, 'max-batch-size': 64, host: '127.0.0.1' }));
  t.same(parse(['--config', config]).port, '7000');
  t.same(parse(['--config', config], { BATCH_INFER_PORT: '7100' }).port, '7100');
  t.same(parse(['--config', config, '--port', '7200'], { BATCH_INFER_PORT: '7100' }).port, '7200');
  t.same(parse(['--config', config])['max-batch-size'], '64');
  t.same(
    parse([], { BATCH_INFER_CONFIG: config }).host,
    '127.0.0.1',
    'the config file may come from the environment',
  );
});

t.test('platform variables follow BATCH_INFER_*: PORT, AIP_*, SAGEMAKER_*', async (t) => {
  t.same(parse([], { AIP_HTTP_PORT: '8081' }).port, '8081');
  t.same(parse([], { SAGEMAKER_BIND_TO_PORT: '8082' }).port, '8082');
  t.same(parse([], { PORT: '8083', AIP_HTTP_PORT: '8081' }).port, '8083', 'PORT is listed first');
  t.same(parse([], { BATCH_INFER_PORT: '9', PORT: '8083' }).port, '9');
  t.same(parse([], { AIP_PREDICT_ROUTE: '/v1/p' })['vertex-predict-route'], '/v1/p');
  t.same(parse([], { SAGEMAKER_MODEL_SERVER_WORKERS: '3' }).workers, '3');
});

t.test('a bad config file is a usage error that names the problem', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, 'c.json');
  await writeFile(config, JSON.stringify({ prot: 1 }));
  t.throws(() => parse(['--config', config]), {
    code: 'BI_ERR_USAGE',
    message: /unknown key "prot" for batch-infer serve/,
  });
  await writeFile(config, '{oops');
  t.throws(() => parse(['--config', config]), {
    code: 'BI_ERR_USAGE',
    message: /--config .*c\.json: .*JSON/,
  });
  await writeFile(config, JSON.stringify({ port: { n: 1 } }));
  t.throws(() => parse(['--config', config]), { message: /"port" must be a string or number/ });
  t.throws(() => parse(['--config', join(dir, 'missing.json')]), { message: /ENOENT/ });
});

t.test('--help shows the environment variables of every flag', async (t) => {
  const { commandHelp } = await import('../../bin/cli/command.js');
  const help = commandHelp(serveCommand);
  t.match(help, /--port <n>.*\n\s+env: BATCH_INFER_PORT, PORT, AIP_HTTP_PORT, SAGEMAKER_BIND_TO_PORT/);
  t.match(help, /--config <file>/);
});
