/**
 * Chart.js, read from the installed package so the report carries it inline and opens with no network. It
 * is resolved from this module, as Node resolves our own imports, so it works from the repository and from
 * an installed tarball alike.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The UMD build (it defines the global `Chart`), without its source-map comment: inlined, the comment would
 * point at a file the page does not have. chart.js's `exports` map names only its module entries, so the
 * bundle is found beside the CommonJS entry, in `dist/`.
 */
export async function loadChartLibrary(): Promise<string> {
  const file = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  const source = await readFile(file, 'utf8');
  return source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}
