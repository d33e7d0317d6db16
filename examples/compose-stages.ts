// Compose the stages yourself with stream.pipeline: here, score a CSV from memory to an array of records.
import { strict as assert } from 'node:assert';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BUNDLED_MODELS_DIR,
  Batcher,
  ModelScorer,
  Postprocessor,
  Preprocessor,
  createCsvParser,
  createLocalScorer,
  planInputs,
  readModelVersion,
  type RejectedRow,
} from 'batch-infer';

const model = await readModelVersion(BUNDLED_MODELS_DIR, 'weather');
const scorer = await createLocalScorer(model);
const rejected: RejectedRow[] = [];
const records: string[][] = [];

const preprocessor = new Preprocessor({
  plan: planInputs(model.contract),
  onReject: (row) => rejected.push(row),
});
await pipeline(
  Readable.from([
    'location,date,precipitation,temp_max,temp_min,wind\n',
    'Seattle,2016-03-01,0.3,10,4,3\n',
    'Seattle,2016-02-30,0,10,4,3\n',
  ]),
  createCsvParser(),
  preprocessor,
  new Batcher({ batchSize: 64 }),
  new ModelScorer({ scorer, concurrency: 1 }),
  new Postprocessor({ labels: model.contract.labels, inputColumns: () => preprocessor.columns }),
  new Writable({
    objectMode: true,
    write(record: string[], _encoding, done) {
      records.push(record);
      done();
    },
  }),
);
await scorer.close();

assert.equal(records.length, 2, 'header + one scored row');
assert.deepEqual(
  rejected.map((r) => [r.line, r.error]),
  [[3, 'column "date": impossible date: "2016-02-30"']],
);
console.log(records[1]);
