import t from 'tap';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline } from '../../lib/index.js';
import { parseShard, partName, shardRange } from '../../lib/core/shard.js';
import { tempDir, WEATHER_CSV } from '../helpers.js';

/** Data rows of a CSV text (the header dropped), as whole lines. */
function body(csv: string): string {
  return csv.slice(csv.indexOf('\n') + 1);
}

t.test('shard helpers', async (t) => {
  t.same(parseShard('2/4'), { index: 2, count: 4 });
  t.equal(parseShard('4/4'), undefined);
  t.equal(parseShard('a/4'), undefined);
  t.equal(partName({ index: 2, count: 4 }), 'part-00002-of-00004.csv');
  const ranges = [0, 1, 2].map((index) => shardRange(10, { index, count: 3 }));
  t.same(ranges, [
    { start: 0, end: 3 },
    { start: 3, end: 6 },
    { start: 6, end: 10 },
  ]);
});

t.test(
  'N = 1, 3, 4 over one file with quoted newlines: the parts concatenate to the single run',
  async (t) => {
    const dir = await tempDir(t);
    const [header, ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
    // Quoted newlines (and a bad row) inside the file: a split by bytes or lines would cut these records.
    const input = join(dir, 'in.csv');
    const lines = rows
      .slice(0, 301)
      .map((r, i) => (i % 10 === 3 ? r.replace('Seattle', '"Seattle\nWA"') : r));
    lines[7] = lines[7]!.replace(/,[\d.]+,/, ',oops,');
    await writeFile(input, [header, ...lines].join('\n') + '\n');
    await createPipeline({ input, output: join(dir, 'single.csv') });
    const single = await readFile(join(dir, 'single.csv'), 'utf8');
    const singleRejects = await readFile(join(dir, 'single.rejects.csv'), 'utf8');
    for (const count of [1, 3, 4]) {
      const out = join(dir, `n${count}`);
      let parts = '';
      let rejects = '';
      let read = 0;
      for (let index = 0; index < count; index++) {
        const summary = await createPipeline({ input, output: out, shard: { index, count } });
        read += summary.rows.read;
        const part = await readFile(join(out, partName({ index, count })), 'utf8');
        t.equal(
          part.slice(0, part.indexOf('\n')),
          single.slice(0, single.indexOf('\n')),
          'each part has the header',
        );
        parts += body(part);
        rejects += body(await readFile(join(out, `part-0000${index}-of-0000${count}.rejects.csv`), 'utf8'));
      }
      t.equal(read, 301, `N = ${count}: every row read once`);
      t.equal(parts, body(single), `N = ${count}: parts in order = the single run, row for row`);
      t.equal(rejects, body(singleRejects), `N = ${count}: rejects too`);
    }
  },
);

t.test('several files are split as whole files', async (t) => {
  const dir = await tempDir(t);
  const [header, ...rows] = (await readFile(WEATHER_CSV, 'utf8')).trim().split('\n');
  await mkdir(join(dir, 'in'));
  for (let f = 0; f < 5; f++)
    await writeFile(
      join(dir, 'in', `f${f}.csv`),
      [header, ...rows.slice(f * 100, f * 100 + 100)].join('\n') + '\n',
    );
  const all = await createPipeline({ input: join(dir, 'in', '*.csv'), output: join(dir, 'all.csv') });
  let parts = '';
  const inputs: string[][] = [];
  for (let index = 0; index < 3; index++) {
    const s = await createPipeline({
      input: join(dir, 'in', '*.csv'),
      output: join(dir, 'out'),
      shard: { index, count: 3 },
    });
    inputs.push(s.inputs.map((p) => p.slice(-6)));
    parts += body(await readFile(join(dir, 'out', partName({ index, count: 3 })), 'utf8'));
  }
  t.same(inputs, [['f0.csv'], ['f1.csv', 'f2.csv'], ['f3.csv', 'f4.csv']]);
  t.equal(all.rows.read, 500);
  t.equal(parts, body(await readFile(join(dir, 'all.csv'), 'utf8')));
  t.ok((await readdir(join(dir, 'out'))).includes('part-00002-of-00003.summary.json'));
  await t.rejects(
    createPipeline({ input: WEATHER_CSV, output: join(dir, 'x'), shard: { index: 3, count: 3 } }),
    {
      code: 'BI_ERR_INVALID_OPTION',
      message: /`shard`: expected \{ index, count \} with 0 ≤ index < count/,
    },
  );
});
