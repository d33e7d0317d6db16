/**
 * The package's root directory, found by walking up from this file. Code runs both from `dist/lib/` (built)
 * and from `lib/` (tests, via a TypeScript loader), so a fixed `../..` would be wrong in one of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'batch-infer'
    )
      return dir;
    if (dirname(dir) === dir) throw new Error(`batch-infer: cannot find the package root above ${start}`);
  }
}

export const PACKAGE_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));
