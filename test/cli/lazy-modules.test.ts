/**
 * Each command loads only the heavy packages it uses: onnxruntime (~30 MiB of RSS) only to score in process,
 * undici (~0.2 s of start-up) only to talk to a server, Koa only to serve, @grpc/grpc-js only to serve gRPC or
 * run `--protocol v2-grpc`, pg, hyparquet and the AWS SDK only for a PostgreSQL, Parquet or S3 input or
 * output. A module hook in the CLI's process records every import of those packages.
 */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { runCli, serveCli } from './spawn-cli.js';

const WATCHED = [
  'onnxruntime-node',
  'undici',
  'koa',
  '@grpc/grpc-js',
  'pg',
  'hyparquet',
  '@aws-sdk/client-s3',
];

t.test('a command loads only the packages it uses', async (t) => {
  const dir = await tempDir(t);
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
const watched = new Set(${JSON.stringify(WATCHED)});
export async function resolve(specifier, context, next) {
  if (watched.has(specifier)) appendFileSync(process.env.LOADED_LOG, specifier + '\\n');
  return next(specifier, context);
}
`,
  );
  const register = join(dir, 'register.mjs');
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );

  let n = 0;
  /** The watched packages `batch-infer <args>` loaded; a `serve` is stopped (SIGTERM) once it listens. */
  const loaded = async (args: string[]): Promise<string[]> => {
    const log = join(dir, `loaded-${n++}.log`);
    await writeFile(log, '');
    let stopping = false;
    const res = await runCli(args, {
      env: { NODE_OPTIONS: `--import ${pathToFileURL(register).href}`, LOADED_LOG: log },
      onStderr: (stderr, child) => {
        if (args[0] === 'serve' && !stopping && /listening on http/.test(stderr)) {
          stopping = true;
          child.kill('SIGTERM');
        }
      },
    });
    t.equal(res.code, 0, `${args.join(' ')} exits 0`, { stderr: res.stderr.slice(-500) });
    return [...new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean))].sort();
  };

  t.same(await loaded(['--help']), [], '--help');
  t.same(await loaded(['run', '--help']), [], 'run --help');
  const output = (name: string): string[] => ['-i', WEATHER_CSV, '-o', join(dir, name)];
  t.same(await loaded(['run', ...output('local.csv')]), ['onnxruntime-node'], 'a local run');
  t.same(
    await loaded(['run', ...output('local.parquet')]),
    ['hyparquet', 'onnxruntime-node'],
    'a local run writing Parquet',
  );
  const server = await serveCli(t);
  t.same(
    await loaded(['run', ...output('http.csv'), '--url', server.url]),
    ['undici'],
    'a run against a server',
  );
  const grpc = /gRPC listening on ([\d.:]+)/.exec(server.stderr())?.[1] ?? '';
  t.same(
    await loaded([
      'run',
      ...output('grpc.csv'),
      '--url',
      server.url,
      '--protocol',
      'v2-grpc',
      '--grpc-url',
      grpc,
    ]),
    ['@grpc/grpc-js', 'undici'],
    'a v2-grpc run (the contract comes over REST)',
  );
  // Whether its workers had loaded onnxruntime when it stopped is a race; gRPC is loaded before it listens.
  const serve = ['serve', '--port', '0', '--host', '127.0.0.1', '--workers', '1'];
  t.ok((await loaded(serve)).includes('@grpc/grpc-js'), 'serve: gRPC');
  t.notOk(
    (await loaded([...serve, '--grpc-port', '0'])).includes('@grpc/grpc-js'),
    'serve --grpc-port 0: no gRPC',
  );
});
