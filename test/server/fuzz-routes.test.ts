/**
 * Fuzzing the routes that take a model name or version (metadata, readiness, inference, repository load and
 * unload) with names built from traversal fragments (`..`, `%2e%2e`, `%2f`, `\`, NUL, absolute paths, broken
 * percent-encoding) and arbitrary text, and the repository API with arbitrary bodies (issue #10 points 4 and
 * 6). Each is answered 4xx `{"error"}`, no model is loaded from outside the repository, and nothing of the
 * host shows in an answer.
 */
import t from 'tap';
import fc from 'fast-check';
import { copyWeather } from './model-fixtures.js';
import { tempDir } from '../helpers.js';
import { FUZZ_SEED, fuzzServer, runs, type FuzzServer } from './fuzz-client.js';

const ADMIN = 'fuzz-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };

const FRAGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2f',
  '%2F',
  '/',
  '%5c',
  '\\',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '%2fetc%2fpasswd',
  'etc',
  'weather',
  'models',
  'C:',
  '~',
  '%7e',
  '%252e%252e',
  '%c0%ae',
];
/** A path segment as a client might send it: fragments glued together, or any text percent-encoded. */
const segment = fc.oneof(
  fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', minLength: 256, maxLength: 300 }).map(encodeURIComponent),
);
/** Segments that name something served (`weather`, version `1`) would rightly be answered 200. */
function decodesTo(segment: string, ...names: string[]): boolean {
  try {
    return names.includes(decodeURIComponent(segment));
  } catch {
    return false;
  }
}

/** Every route with a model name or version in its path, for one bad `name` or `version`. */
function routes(name: string, version: string): { method: string; path: string }[] {
  return [
    { method: 'GET', path: `/v2/models/${name}` },
    { method: 'GET', path: `/v2/models/${name}/ready` },
    { method: 'POST', path: `/v2/models/${name}/infer` },
    { method: 'GET', path: `/v2/models/${name}/versions/1` },
    { method: 'POST', path: `/v2/models/${name}/versions/1/infer` },
    { method: 'GET', path: `/v2/models/weather/versions/${version}` },
    { method: 'GET', path: `/v2/models/weather/versions/${version}/ready` },
    { method: 'POST', path: `/v2/models/weather/versions/${version}/infer` },
    { method: 'POST', path: `/v2/repository/models/${name}/load` },
    { method: 'POST', path: `/v2/repository/models/${name}/unload` },
  ];
}

const INFER = JSON.stringify({
  inputs: [{ name: 'features', shape: [1, 6], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0] }],
});

async function properties(server: FuzzServer, seed: number, scale: number): Promise<void> {
  const options = (n: number) => ({ seed, numRuns: Math.max(1, Math.round(runs(n) * scale)) });
  await fc.assert(
    fc.asyncProperty(segment, segment, async (name, version) => {
      if (decodesTo(name, 'weather') || decodesTo(version, '1')) return;
      for (const { method, path } of routes(name, version)) {
        const body = method === 'POST' && path.endsWith('/infer') ? INFER : '';
        await server.expect({ method, path, headers: admin, body });
      }
    }),
    options(150),
  );
  // The repository API's bodies: index takes {"ready": boolean}, load and unload an optional object.
  const anything = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string(),
  );
  await fc.assert(
    fc.asyncProperty(anything, async (body) => {
      await server.expect({ method: 'POST', path: '/v2/repository/index', headers: admin, body }, true);
      await server.expect({
        method: 'POST',
        path: '/v2/repository/models/absent/load',
        headers: admin,
        body,
      });
      await server.expect({
        method: 'POST',
        path: '/v2/repository/models/absent/unload',
        headers: admin,
        body,
      });
    }),
    options(100),
  );
}

t.test('routes with a model name refuse every bad name or version with a 4xx {"error"}', async (t) => {
  const models = await tempDir(t);
  await copyWeather(models);
  const server = await fuzzServer(t, { models, adminToken: ADMIN, maxBodyBytes: 1024 * 1024 }, [models]);
  await properties(server, FUZZ_SEED + 1, 0.25);
  await server.baseline();
  await properties(server, FUZZ_SEED, 1);
  const index = JSON.parse(
    (await server.send({ method: 'POST', path: '/v2/repository/index', headers: admin })).text,
  ) as { name: string }[];
  t.same(
    index.map((e) => e.name),
    ['weather'],
    'the repository still holds only its own model',
  );
  await server.finish();
});
