import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPipeline } from '../../lib/index.js';
import { startServer, tempDir, WEATHER_CSV } from '../helpers.js';

// Every client protocol against our own server (not a stand-in): each must score the file to the same bytes
// as in-process scoring, so a user can move between protocols without their output changing.
t.test('every protocol against batch-infer serve gives the local output, byte for byte', async (t) => {
  const url = await startServer(t);
  const dir = await tempDir(t);
  await createPipeline({ input: WEATHER_CSV, output: join(dir, 'local.csv') });
  const local = await readFile(join(dir, 'local.csv'));
  for (const protocol of ['v2-json', 'v2-binary', 'vertex', 'sagemaker'] as const) {
    const output = join(dir, `${protocol}.csv`);
    const summary = await createPipeline({ input: WEATHER_CSV, output, url, protocol, batchSize: 500 });
    t.equal(summary.rows.scored, 2922, `${protocol}: every row scored`);
    t.ok((await readFile(output)).equals(local), `${protocol}: same bytes as local`);
  }
});
