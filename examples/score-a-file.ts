// Score a CSV file in process with the bundled weather model: no server needed.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from 'batch-infer';

const dir = await mkdtemp(join(tmpdir(), 'example-'));
const input = join(dir, 'days.csv');
const output = join(dir, 'scored.csv');
await writeFile(
  input,
  'location,date,precipitation,temp_max,temp_min,wind\n' +
    'Seattle,2016-01-10,12.4,8.3,4.4,5.1\n' +
    'Seattle,2016-07-04,0,27.8,14.4,2.9\n' +
    'Seattle,2016-07-05,oops,27.8,14.4,2.9\n',
);

const summary = await createPipeline({ input, output });

assert.deepEqual(summary.rows, { read: 3, scored: 2, rejected: 1 });
const lines = (await readFile(output, 'utf8')).trim().split('\n');
assert.equal(
  lines[0],
  'location,date,precipitation,temp_max,temp_min,wind,prediction,probability_drizzle,probability_fog,probability_rain,probability_snow,probability_sun',
);
assert.match(lines[1] ?? '', /^Seattle,2016-01-10,12\.4,8\.3,4\.4,5\.1,rain,/);
assert.match(lines[2] ?? '', /^Seattle,2016-07-04,0,27\.8,14\.4,2\.9,sun,/);
console.log(
  `scored ${summary.rows.scored} rows, rejected ${summary.rows.rejected}; rejects in ${summary.rejects}`,
);
