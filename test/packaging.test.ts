import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { tempDir } from './helpers.js';

// Packs the package as `npm publish` would, installs the tarball into an empty project and uses it there the
// way a user does: `npx batch-infer demo` and `import { createPipeline } from 'batch-infer'`. `npm test`
// builds dist/ first (pretest).
const exec = promisify(execFile);
const env = {
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_onnxruntime_node_install: 'skip',
  NODE_OPTIONS: '',
};

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

t.test('the packed tarball installs and works in an empty project', async (t) => {
  const dir = await tempDir(t);
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: PACKAGE_ROOT,
    env,
  });
  const [pack] = JSON.parse(stdout) as PackResult[];
  if (pack === undefined) throw new Error('npm pack printed no result');
  const files = pack.files.map((f) => f.path);
  t.comment(
    `tarball ${pack.filename}: ${(pack.size / 1024).toFixed(1)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${files.length} files`,
  );
  for (const needed of [
    'dist/bin/batch-infer.js',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/server/index.js',
    'dist/testing/index.js',
    'models/weather/1/model.onnx',
    'models/weather/1/model.json',
    'data/weather.csv',
    'README.md',
    'CHANGELOG.md',
    'package.json',
  ]) {
    t.ok(files.includes(needed), `ships ${needed}`);
  }
  const unwanted = files.filter((f) =>
    /^(test|training|benchmarks|examples|lib|server|bin|testing)\/|\.map$|\.tsbuildinfo$|^\.ci\//.test(f),
  );
  t.same(unwanted, [], 'no tests, sources, source maps or CI files');

  const project = join(dir, 'project');
  await exec('mkdir', ['-p', project]);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', private: true, type: 'module' }),
  );
  await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, pack.filename)], {
    cwd: project,
    env,
  });

  const demo = await exec('npx', ['--no-install', 'batch-infer', 'demo', '--output-dir', 'out'], {
    cwd: project,
    env,
  });
  t.match(demo.stdout, /2922 read, 2922 scored, 0 rejected/);
  const predictions = await readFile(join(project, 'out', 'predictions.csv'), 'utf8');
  t.equal(predictions.trimEnd().split('\n').length, 2923);

  await writeFile(
    join(project, 'use.js'),
    [
      "import { createPipeline } from 'batch-infer';",
      "import { createModelServer } from 'batch-infer/server';",
      "import { startMockModelServer } from 'batch-infer/testing';",
      "const summary = await createPipeline({ input: 'node_modules/batch-infer/data/weather.csv', output: 'scored.csv' });",
      'const mock = await startMockModelServer();',
      'await mock.close();',
      'await createModelServer().close();',
      'console.log(JSON.stringify(summary.rows));',
    ].join('\n'),
  );
  const use = await exec(process.execPath, ['use.js'], { cwd: project, env });
  t.same(JSON.parse(use.stdout), { read: 2922, scored: 2922, rejected: 0 });
  t.ok((await stat(join(project, 'scored.csv'))).size > 0);
});
