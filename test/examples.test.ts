import t from 'tap';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';

// Examples import the package by its own name ('batch-infer'), which resolves through the `exports` map to
// dist/: `npm test` builds first (pretest), so these also prove the exports map and the types work.
const run = promisify(execFile);
const TSX = import.meta.resolve('tsx');
const examples = (await readdir(join(PACKAGE_ROOT, 'examples'))).filter((f) => f.endsWith('.ts')).sort();
const readme = await readFile(join(PACKAGE_ROOT, 'README.md'), 'utf8');

for (const file of examples) {
  t.test(`examples/${file} runs and asserts its own output`, async (t) => {
    const { stdout } = await run(process.execPath, ['--import', TSX, join(PACKAGE_ROOT, 'examples', file)], {
      cwd: PACKAGE_ROOT,
    });
    t.ok(stdout.length > 0);
  });
}

t.test('every ```ts block in the README is one of the examples, verbatim', async (t) => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  t.ok(blocks.length > 0);
  const sources = await Promise.all(examples.map((f) => readFile(join(PACKAGE_ROOT, 'examples', f), 'utf8')));
  for (const block of blocks)
    t.ok(
      sources.includes(block),
      `README block starting ${JSON.stringify(block.slice(0, 60))} is an example file`,
    );
});
