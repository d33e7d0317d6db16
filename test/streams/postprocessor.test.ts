import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { Postprocessor, type ScoredBatch } from '../../lib/index.js';

const LABELS = ['no', 'yes'];
const COLUMNS = ['id', 'note'];

function batch(index: number, rows: string[][]): ScoredBatch {
  const probabilities = Float32Array.from(rows.flatMap((_, i) => [0.25 + i / 100, 0.75 - i / 100]));
  return {
    index,
    rows: rows.map((values, i) => ({ line: i + 2, values })),
    inputs: [],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [rows.length, 2], data: probabilities }],
    probabilities,
  };
}

const BATCHES = [
  batch(0, [
    ['1', 'plain'],
    ['2', 'with, comma'],
  ]),
  batch(1, [['3', 'a "quote"\nand a newline']]),
];

async function run(post: Postprocessor, batches: ScoredBatch[], records: boolean): Promise<string> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out += chunk.toString('utf8');
      done();
    },
  });
  await pipeline(Readable.from(batches), post, ...(records ? [stringify()] : []), sink);
  return out;
}

t.test('output "csv" writes the bytes csv-stringify writes for the records', async (t) => {
  const options = { labels: LABELS, inputColumns: () => COLUMNS };
  const viaStringify = await run(new Postprocessor(options), BATCHES, true);
  const direct = await run(new Postprocessor({ ...options, output: 'csv' }), BATCHES, false);
  t.equal(direct, viaStringify);
  t.match(direct, /^id,note,prediction,probability_no,probability_yes\n1,plain,yes,0\.25,0\.75\n/);

  const kept = { ...options, keepColumns: ['note'] };
  t.equal(
    await run(new Postprocessor({ ...kept, output: 'csv' }), BATCHES, false),
    await run(new Postprocessor(kept), BATCHES, true),
    'with keepColumns',
  );
});

t.test('a batch scored without the `probabilities` option reads the `probabilities` output', async (t) => {
  // A ModelScorer not told which output holds the probabilities leaves the batch's `probabilities` empty.
  const bare = BATCHES.map((b) => ({ ...b, probabilities: new Float32Array(0) }));
  const options = { labels: LABELS, inputColumns: () => COLUMNS };
  for (const output of ['csv', 'records'] as const)
    t.equal(
      await run(new Postprocessor({ ...options, output }), bare, output === 'records'),
      await run(new Postprocessor({ ...options, output }), BATCHES, output === 'records'),
      output,
    );
});

t.test('no rows: the header alone, in either output', async (t) => {
  const options = { labels: LABELS, inputColumns: () => COLUMNS };
  t.equal(
    await run(new Postprocessor({ ...options, output: 'csv' }), [], false),
    'id,note,prediction,probability_no,probability_yes\n',
  );
  t.equal(
    await run(new Postprocessor(options), [], true),
    'id,note,prediction,probability_no,probability_yes\n',
  );
});

t.test('a bad `output` and a missing kept column are refused', async (t) => {
  t.throws(
    () => new Postprocessor({ labels: LABELS, inputColumns: () => COLUMNS, output: 'json' as 'csv' }),
    { code: 'BI_ERR_INVALID_OPTION', message: /output/ },
  );
  await t.rejects(
    run(
      new Postprocessor({
        labels: LABELS,
        inputColumns: () => COLUMNS,
        keepColumns: ['nope'],
        output: 'csv',
      }),
      BATCHES,
      false,
    ),
    { code: 'BI_ERR_MISSING_COLUMN' },
  );
});
