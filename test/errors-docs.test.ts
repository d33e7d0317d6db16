import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes } from '../lib/errors.js';
import { PACKAGE_ROOT } from '../lib/package-root.js';

t.test('every error code is documented in docs/errors.md, and nothing else is', async (t) => {
  const doc = await readFile(join(PACKAGE_ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(BI_ERR_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]).sort();
  t.same(documented, Object.values(ErrorCodes).sort());
});

t.test('the bundled demo data is the vega-datasets file, byte for byte', async (t) => {
  const bundled = await readFile(join(PACKAGE_ROOT, 'data', 'weather.csv'));
  const upstream = await readFile(join(PACKAGE_ROOT, 'node_modules', 'vega-datasets', 'data', 'weather.csv'));
  t.ok(bundled.equals(upstream));
});
