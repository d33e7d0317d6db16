/**
 * What a person sees in a terminal and what a machine reads from a pipe (issue #19). The terminal is a real
 * pseudo-terminal: util-linux `script` runs the CLI on one and copies what it shows to its own stdout.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';
import { runCli } from './spawn-cli.js';

const NO_SCRIPT = spawnSync('script', ['--version']).status !== 0 && 'needs util-linux script';
// A handful of CLI runs, each loading TypeScript through tsx, on a loaded machine.
t.setTimeout(300_000);

const TSX = import.meta.resolve('tsx');
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
const SGR = /\x1b\[[\d;]*m/; // eslint-disable-line no-control-regex
const stripAnsi = (s: string): string => s.replace(/\x1b\[[\d;]*[A-Za-z]/g, ''); // eslint-disable-line no-control-regex

/**
 * The environment of a person's terminal: tap's own NO_COLOR and FORCE_COLOR gone, and CI's `CI` too (Node's
 * colour detection gives a terminal under `CI` 2 colours, so CI would test something no person sees), then `env`.
 */
function terminalEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...process.env };
  delete rest.NO_COLOR;
  delete rest.FORCE_COLOR;
  delete rest.CI;
  return { ...rest, NODE_OPTIONS: '', TERM: 'xterm-256color', ...env };
}

/**
 * NODE_OPTIONS that record, in `<dir>/imports.log`, whether the CLI imported pino-pretty: a terminal needs it,
 * nothing else should pay for loading it (issue #19).
 */
async function watchPinoPretty(
  dir: string,
): Promise<{ env: NodeJS.ProcessEnv; imported: () => Promise<boolean> }> {
  const log = join(dir, 'imports.log');
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(log, '');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'pino-pretty') appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}
`,
  );
  const register = join(dir, 'register.mjs');
  await writeFile(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  return {
    env: { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` },
    imported: async () => (await readFile(log, 'utf8')).includes('pino-pretty'),
  };
}

/** The non-empty lines of `text` that are not JSON. */
function notJson(text: string): string[] {
  return text.split('\n').filter((line) => {
    if (line === '') return false;
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  });
}

/** Runs the CLI on a pseudo-terminal (stdin, stdout and stderr all of it) and returns what it showed. */
function onTerminal(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, '--import', TSX, join(PACKAGE_ROOT, 'bin', 'batch-infer.ts'), ...args]
    .map(quote)
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: terminalEnv(env) });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen: screen.replaceAll('\r\n', '\n') }));
    child.stdin.end();
  });
}

t.test(
  'run on a terminal: human log lines, a live progress line and a summary block',
  { skip: NO_SCRIPT },
  async (t) => {
    const dir = await tempDir(t);
    const watch = await watchPinoPretty(dir);
    const { code, screen } = await onTerminal(['run', '-i', WEATHER_CSV, '-o', 'scored.csv'], dir, watch.env);
    t.equal(code, 0, 'exits 0', { screen });
    t.ok(await watch.imported(), 'pino-pretty formats the lines');
    t.match(screen, SGR, 'coloured: a terminal, and neither NO_COLOR nor FORCE_COLOR=0');
    const text = stripAnsi(screen);
    t.notMatch(text, /\{"level"/, 'no JSON lines');
    t.match(text, /^\[\d\d:\d\d:\d\d\] INFO: run started$/m);
    t.match(text, /2,922 scored · 0 rejected · [\d,]+ rows\/s · 100 % read · done in \d+s\n/);
    t.match(text, `batch-infer run: scored ${WEATHER_CSV} with weather v1 (in process)\n`);
    t.match(text, /^ {2}rows {7}2,922 read · 2,922 scored · 0 rejected$/m);
    t.match(text, /^ {2}speed {6}[\d,]+ rows\/s \([\d.]+ m?s\)$/m);
    t.match(text, /^ {2}drift {6}\d of 6 features drifted: [a-z_, ]+ — see scored\.summary\.json$/m);
    t.match(text, /^ {2}alerts {5}BatchInference\w+: .+$/m);
    t.match(
      text,
      /^ {2}output {5}scored\.csv\n {2}summary {4}scored\.summary\.json\n {2}metrics {4}scored\.metrics\.prom\n/m,
    );
    for (const file of ['scored.csv', 'scored.rejects.csv', 'scored.summary.json', 'scored.metrics.prom'])
      await t.resolves(access(join(dir, file)), `${file} written`);
  },
);

t.test('--quiet on a terminal: only warnings; NO_COLOR: no colour', { skip: NO_SCRIPT }, async (t) => {
  const dir = await tempDir(t);
  const { code, screen } = await onTerminal(['run', '-i', WEATHER_CSV, '-o', 'scored.csv', '--quiet'], dir, {
    NO_COLOR: '1',
  });
  t.equal(code, 0, 'exits 0', { screen });
  t.notMatch(screen, SGR);
  t.notMatch(screen, /INFO|scored ·|batch-infer run:/, 'no info lines, no progress, no summary');
  t.match(screen, /^\r?(\x1b\[K)?\[\d\d:\d\d:\d\d\] WARN: alert BatchInferenceDataDrift: /m); // eslint-disable-line no-control-regex
});

t.test('--log-format json on a terminal: JSON lines only', { skip: NO_SCRIPT }, async (t) => {
  const dir = await tempDir(t);
  const { code, screen } = await onTerminal(
    ['run', '-i', WEATHER_CSV, '-o', 'scored.csv', '--log-format', 'json'],
    dir,
  );
  t.equal(code, 0, 'exits 0', { screen });
  t.same(notJson(screen), [], 'every line is JSON');
  t.ok(screen.split('\n').length > 2);
});

t.test('off a terminal: every stderr line is JSON; --json puts the summary on stdout', async (t) => {
  const dir = await tempDir(t);
  const watch = await watchPinoPretty(dir);
  const res = await runCli(['run', '-i', WEATHER_CSV, '-o', 'scored.csv', '--json'], {
    cwd: dir,
    env: watch.env,
  });
  t.equal(res.code, 0, 'exits 0', { stderr: res.stderr });
  t.notOk(await watch.imported(), 'pino-pretty is not even loaded');
  t.same(notJson(res.stderr), [], 'every stderr line is JSON');
  const logs = res.stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { level: number; msg: string });
  t.same(
    logs.filter((l) => l.level === 30).map((l) => l.msg),
    ['run started', 'scored 2922 rows, rejected 0'],
    'the info lines of before (#19): byte for byte the same shape',
  );
  const summary = JSON.parse(res.stdout) as { rows: unknown; summary: string; metrics: string };
  t.same(summary.rows, { read: 2922, scored: 2922, rejected: 0 });
  t.equal(summary.summary, 'scored.summary.json');
  t.equal(summary.metrics, 'scored.metrics.prom');
  t.same(
    (JSON.parse(await readFile(join(dir, 'scored.summary.json'), 'utf8')) as { rows: unknown }).rows,
    summary.rows,
  );
  const bad = await runCli(['run', '-i', WEATHER_CSV, '-o', '-', '--json'], { cwd: dir });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--json prints the summary on stdout, which --output - uses for the scored rows/);
});

t.test('serve on a terminal: what it serves, in a few lines', { skip: NO_SCRIPT }, async (t) => {
  const command = [
    process.execPath,
    '--import',
    TSX,
    join(PACKAGE_ROOT, 'bin', 'batch-infer.ts'),
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
  ]
    .map(quote)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: terminalEnv({ NO_COLOR: '1' }) });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let screen = '';
  const exited = new Promise((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString().replaceAll('\r\n', '\n');
      if (/ {2}stop +Ctrl-C/.test(screen)) resolve();
    });
    void exited.then(() => reject(new Error(`serve exited: ${screen}`)));
  });
  t.match(screen, /^batch-infer serve: listening on http:\/\/127\.0\.0\.1:\d+$/m);
  t.match(screen, /^ {2}models {3}weather v1$/m);
  t.match(
    screen,
    /^ {2}infer {4}POST \/v2\/models\/\{model\}\[\/versions\/\{version\}\]\/infer +Open Inference Protocol V2$/m,
  );
  t.match(screen, /SageMaker → weather$/m);
  t.match(screen, /Vertex AI → weather$/m);
  t.match(screen, /^ {2}grpc {5}127\.0\.0\.1:\d+ {2}inference\.GRPCInferenceService/m);
  t.notMatch(screen, /\{"level"/);
  child.kill('SIGTERM');
  await exited;
});
