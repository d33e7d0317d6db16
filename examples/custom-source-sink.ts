// Your own source and sink: rows from anywhere (a message queue, an API, another database) and typed output
// rows to anywhere, through the whole run — typed cells in, rejects, the summary — with createPipeline.
import { strict as assert } from 'node:assert';
import { Readable, Writable } from 'node:stream';
import { createPipeline, type Cell, type RecordSink, type RecordSource, type RowBatch } from 'batch-infer';

// A source: a header record first (names, and types when known), then rows numbered from 1.
const readings: RecordSource = {
  name: 'queue://weather-readings',
  repeatable: false,
  size: () => Promise.resolve({ rows: 3 }),
  open: () =>
    Readable.from([
      {
        line: 0,
        values: ['station', 'date', 'precipitation', 'temp_max', 'temp_min', 'wind'],
        columns: [
          { name: 'station', type: 'string' },
          { name: 'date', type: 'string' },
          { name: 'precipitation', type: 'float64' },
          { name: 'temp_max', type: 'float64' },
          { name: 'temp_min', type: 'float64' },
          { name: 'wind', type: 'float64' },
        ],
      },
      { line: 1, values: ['KSEA', '2016-11-02', 14.2, 12.8, 8.3, 5.6] },
      { line: 2, values: ['KSEA', '2016-07-04', 0, 27.8, 14.4, 2.9] },
      // A missing value: rejected with its reason, the run goes on.
      { line: 3, values: ['KNYC', '2016-01-23', 41.9, null, -5.5, 9.3] },
    ]),
};

// A sink of typed rows: nothing is visible until commit(), and discard() forgets what was written.
const table = new Map<string, Cell[]>();
const pending: Cell[][] = [];
let columns: string[] = [];
const predictions: RecordSink = {
  kind: 'rows',
  name: 'kv://predictions',
  stream: new Writable({
    objectMode: true,
    write(batch: RowBatch, _encoding, done) {
      columns = batch.columns.map((c) => c.name);
      pending.push(...batch.rows.map((row) => [...row]));
      done();
    },
  }),
  commit: () => {
    for (const row of pending) table.set(`${String(row[0])}/${String(row[1])}`, row);
    return Promise.resolve();
  },
  discard: () => {
    pending.length = 0;
    return Promise.resolve();
  },
};

const summary = await createPipeline({
  input: readings,
  output: predictions,
  columns: ['station', 'date'],
  summary: false,
  metricsFile: false,
});

assert.deepEqual(summary.rows, { read: 3, scored: 2, rejected: 1 });
assert.deepEqual(columns.slice(0, 3), ['station', 'date', 'prediction']);
assert.equal(table.get('KSEA/2016-11-02')?.[2], 'rain');
assert.equal(table.get('KSEA/2016-07-04')?.[2], 'sun');
assert.equal(typeof table.get('KSEA/2016-07-04')?.[3], 'number', 'probabilities are numbers, not text');
console.log(
  `${summary.inputs[0]} → ${summary.output}: ${table.size} rows, ${summary.rows.rejected} rejected`,
);
