import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { createModelServer } from '../../server/index.js';

// docs/openapi.yaml must describe exactly the routes the app registers: a route added without docs, or docs
// for a route that is gone, fails here.
t.test('docs/openapi.yaml lists exactly the routes the server answers', async (t) => {
  const doc = parse(await readFile(join(PACKAGE_ROOT, 'docs', 'openapi.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = Object.entries(doc.paths)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'put', 'delete', 'patch'].includes(k))
        .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    )
    .sort();
  const server = createModelServer();
  t.teardown(() => server.close());
  const registered = server
    .routes()
    .map((r) => `${r.method} ${r.path}`)
    .sort();
  t.same(documented, registered);
});
