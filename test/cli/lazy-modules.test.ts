/**
 * Each command loads only the heavy packages it uses: onnxruntime (~30 MiB of RSS) only to score in process,
 * undici (~0.2 s of start-up) only to talk to a server, Koa only to serve. A module hook in the CLI's process
 * records every import of those packages.
 */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { runCli, serveCli } from './spawn-cli.js';

const WATCHED = ['onnxruntime-node', 'undici', 'koa'];

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
  /** The watched packages `batch-infer <args>` loaded. */
  const loaded = async (args: string[]): Promise<string[]> => {
    const log = join(dir, `loaded-${n++}.log`);
    await writeFile(log, '');
    const res = await runCli(args, {
      env: { NODE_OPTIONS: `--import ${pathToFileURL(register).href}`, LOADED_LOG: log },
    });
    t.equal(res.code, 0, `${args.join(' ')} exits 0`, { stderr: res.stderr.slice(-500) });
    return [...new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean))].sort();
  };

  t.same(await loaded(['--help']), [], '--help');
  t.same(await loaded(['run', '--help']), [], 'run --help');
  const output = (name: string): string[] => ['-i', WEATHER_CSV, '-o', join(dir, name)];
  t.same(await loaded(['run', ...output('local.csv')]), ['onnxruntime-node'], 'a local run');
  const server = await serveCli(t);
  t.same(
    await loaded(['run', ...output('http.csv'), '--url', server.url]),
    ['undici'],
    'a run against a server',
  );
});
