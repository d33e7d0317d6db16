import t from 'tap';
import { execFile } from 'node:child_process';
import { access, chmod, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../lib/package-root.js';
import { startServer, tempDir } from './helpers.js';

// Docs stay true: every fenced ```sh block in README.md and docs/*.md runs here, in a scratch directory that
// holds a copy of data/, models/ and test/fixtures/models/, with `batch-infer` on PATH (the built CLI) and a model server listening;
// `localhost:8080` in a block means that server. A block whose fence says `no-run` (```sh no-run) is an
// illustration (it starts a long-running server, needs a cloud, or installs things) and is skipped. ```ts
// blocks are checked by examples.test.ts (README) or must be marked `no-run` too.
const exec = promisify(execFile);

// About thirty CLI runs, one after the other: on a loaded 2-core machine that can pass tap's 180 s per file.
t.setTimeout(600_000);

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(join(PACKAGE_ROOT, 'docs')))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  return ['README.md', ...docs];
}

interface Block {
  lang: string;
  meta: string;
  code: string;
  line: number;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const fence = /^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(fence)) {
    found.push({
      lang: m[1] ?? '',
      meta: (m[2] ?? '').trim(),
      code: m[3] ?? '',
      line: markdown.slice(0, m.index).split('\n').length,
    });
  }
  return found;
}

const files = await markdownFiles();

t.test('every ```ts block outside README is marked no-run', async (t) => {
  for (const file of files.filter((f) => f !== 'README.md')) {
    for (const b of blocks(await readFile(join(PACKAGE_ROOT, file), 'utf8'))) {
      if (b.lang === 'ts' || b.lang === 'typescript')
        t.match(b.meta, /no-run/, `${file}:${b.line} is marked no-run`);
    }
  }
});

t.test('every runnable ```sh block in the docs runs', async (t) => {
  const url = await startServer(t, { adminToken: 'docs-token' });
  const hostPort = url.replace('http://', '');
  const scratch = await tempDir(t);
  await cp(join(PACKAGE_ROOT, 'data'), join(scratch, 'data'), { recursive: true });
  await cp(join(PACKAGE_ROOT, 'models'), join(scratch, 'models'), { recursive: true });
  // The third-party models docs/models.md brings in.
  await cp(join(PACKAGE_ROOT, 'test', 'fixtures', 'models'), join(scratch, 'test', 'fixtures', 'models'), {
    recursive: true,
  });
  const bin = join(scratch, '.bin');
  await mkdir(bin);
  await writeFile(
    join(bin, 'batch-infer'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(PACKAGE_ROOT, 'dist', 'bin', 'batch-infer.js')}" "$@"\n`,
  );
  await chmod(join(bin, 'batch-infer'), 0o755);
  for (const file of files) {
    for (const b of blocks(await readFile(join(PACKAGE_ROOT, file), 'utf8'))) {
      if ((b.lang !== 'sh' && b.lang !== 'bash') || b.meta.includes('no-run')) continue;
      const script = `set -euo pipefail\n${b.code.replaceAll('localhost:8080', hostPort)}`;
      try {
        await exec('bash', ['-c', script], {
          cwd: scratch,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NODE_OPTIONS: '' },
        });
        t.pass(`${file}:${b.line} runs`);
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string };
        t.fail(`${file}:${b.line} fails: ${e.stderr ?? ''}${e.stdout ?? ''}`.slice(0, 2000));
      }
    }
  }
});

t.test('every relative link in README.md and docs/ points at a file that exists', async (t) => {
  for (const file of files) {
    const markdown = await readFile(join(PACKAGE_ROOT, file), 'utf8');
    for (const m of markdown.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      const target = m[1] as string;
      if (/^[a-z]+:/i.test(target)) continue;
      const path = join(PACKAGE_ROOT, dirname(file), target);
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      t.ok(exists, `${file} links to ${target}`);
    }
  }
});
