// A custom data source: any async generator of records can feed the stages — here, rows that might come from
// a database cursor or a message queue, scored in process and collected as objects.
import { strict as assert } from 'node:assert';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BUNDLED_MODELS_DIR,
  Batcher,
  ModelScorer,
  Postprocessor,
  Preprocessor,
  createLocalScorer,
  planInputs,
  readModelVersion,
  type SourceRecord,
} from 'batch-infer';

const columns = ['station', 'date', 'precipitation', 'temp_max', 'temp_min', 'wind'];

/** Stands in for a cursor: yields one record at a time, numbered like lines of a file. */
async function* readings(): AsyncGenerator<SourceRecord> {
  const days = [
    ['KSEA', '2016-11-02', '14.2', '12.8', '8.3', '5.6'],
    ['KSEA', '2016-11-03', '0', '13.9', '6.1', '2.0'],
    ['KNYC', '2016-01-23', '41.9', '-1.6', '-5.5', '9.3'],
  ];
  for (const [i, values] of days.entries()) {
    await new Promise((resolve) => setImmediate(resolve));
    yield { line: i + 1, values };
  }
}

const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const scorer = await createLocalScorer(model);
const scored: Record<string, string>[] = [];
const preprocessor = new Preprocessor({ plan: planInputs(model.contract), columns });
let header: string[] | undefined;

await pipeline(
  Readable.from(readings()),
  preprocessor,
  new Batcher({ batchSize: 2 }),
  new ModelScorer({ scorer }),
  new Postprocessor({ labels: model.contract.labels, inputColumns: () => preprocessor.columns }),
  new Writable({
    objectMode: true,
    write(record: string[], _encoding, done) {
      if (header === undefined) header = record;
      else scored.push(Object.fromEntries(header.map((name, i) => [name, record[i] ?? ''])));
      done();
    },
  }),
);
await scorer.close();

assert.deepEqual(
  scored.map((r) => [r.station, r.prediction]),
  [
    ['KSEA', 'rain'],
    ['KSEA', 'sun'],
    ['KNYC', 'snow'],
  ],
);
console.log(
  scored
    .map((r) => `${r.station} ${r.date}: ${r.prediction} (p=${r[`probability_${r.prediction}`]})`)
    .join('\n'),
);
