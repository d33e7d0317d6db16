/**
 * Issue #9 acceptance: the v2 files load in the server, and `batch-infer evaluate` through the server and in
 * process agree — for each version alone and for the comparison of the two (the same JSON, bootstrap included).
 */
import t from 'tap';
import type { ModelComparison } from '../../lib/core/compare.js';
import type { ClassificationReport } from '../../lib/core/metrics.js';
import { runCli } from '../cli/spawn-cli.js';
import { startServer, tempDir } from '../helpers.js';
import { load, served } from './admin-client.js';
import { writeHeldOutSets } from './labelled-sets.js';

const TOKEN = 'eval-token';

async function evaluate(args: string[]): Promise<unknown> {
  const res = await runCli(['evaluate', ...args, '--json']);
  if (res.code !== 0) throw new Error(`evaluate ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return JSON.parse(res.stdout) as unknown;
}

t.test('v2 loads in the server; evaluation through the server equals evaluation in process', async (t) => {
  const url = await startServer(t, { adminToken: TOKEN });
  const staged = await load(url, TOKEN, {
    version_policy: { specific: { versions: [1, 2] } },
    default_version: 1,
  });
  t.same(staged.body, { name: 'weather', versions: ['1', '2'] }, 'v2 loads beside v1');
  t.same(await served(url), { versions: ['1', '2'], answers: '1' });
  const { newYork, seattle } = await writeHeldOutSets(await tempDir(t));

  // v2 alone, then both versions on both sets (the comparison carries each one's full report).
  const viaServerV2 = (await evaluate([
    '-i',
    newYork,
    '--url',
    url,
    '--model-version',
    '2',
  ])) as ClassificationReport;
  t.same(viaServerV2, await evaluate(['-i', newYork, '--model-version', '2']), 'v2 on New York 2015');
  t.equal(viaServerV2.rows, 365);

  const compare = ['-i', newYork, '-i', seattle, '--model-version', '1', '--compare-version', '2'];
  const viaServer = (await evaluate([...compare, '--url', url])) as ModelComparison;
  t.same(viaServer, await evaluate(compare), 'the comparison, through the server and in process');
  t.same(
    viaServer.sets.map((s) => s.name),
    ['new-york-2015', 'seattle-2015'],
  );
  t.match(viaServer, { model: 'weather', champion: { version: 1 }, challenger: { version: 2 } });
});

t.test('evaluate refuses what it cannot answer for', async (t) => {
  const { newYork, seattle } = await writeHeldOutSets(await tempDir(t));
  const several = await runCli(['evaluate', '-i', newYork, '-i', seattle]);
  t.equal(several.code, 2);
  t.match(several.stderr, /evaluate one file, or compare sets with --compare-version/);
  const url = await startServer(t);
  const unnamed = await runCli(['evaluate', '-i', newYork, '--url', url, '--compare-version', '2']);
  t.equal(unnamed.code, 2);
  t.match(unnamed.stderr, /needs the champion version named/);
});
