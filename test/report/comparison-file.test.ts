/** lib/report/comparison-file.ts: the comparison `report --comparison` reads, checked before it is drawn. */
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, isBatchInferError } from '../../lib/errors.js';
import type { ModelComparison } from '../../lib/core/compare.js';
import { comparisonProblem, readComparison } from '../../lib/report/comparison-file.js';
import { tempDir } from '../helpers.js';
import { comparison } from './records.js';

/** Reads `text` as a comparison file; resolves with the comparison or the error. */
async function read(t: Test, text: string | undefined): Promise<unknown> {
  const path = join(await tempDir(t), 'comparison.json');
  if (text !== undefined) await writeFile(path, text);
  return readComparison(path).catch((err: unknown) => err);
}

const c = comparison();
/** The comparison as JSON, with `edit` applied to the parsed copy. */
const json = (edit: (v: ModelComparison) => void = () => {}): string => {
  const v = JSON.parse(JSON.stringify(c)) as ModelComparison;
  edit(v);
  return JSON.stringify(v);
};

t.test('a comparison as compareModels makes it passes, read back unchanged', async (t) => {
  t.equal(comparisonProblem(JSON.parse(json())), undefined);
  t.same(await read(t, json()), c);
});

t.test('the check names the first field that is wrong', async (t) => {
  // Object.assign and Reflect: the edits break the type on purpose.
  const cases: [(v: ModelComparison) => unknown, string][] = [
    [(v) => Object.assign(v, { format: 2 }), 'format is 2, not 1'],
    [(v) => Reflect.deleteProperty(v, 'model'), 'model is not a string'],
    [(v) => (v.sets = []), 'sets is empty'],
    [(v) => (v.labels = []), 'labels is empty'],
    [
      (v) => Object.assign(v.sets[1]?.deltas[2] ?? {}, { interval: [0] }),
      'sets[1].deltas[2].interval is not a pair of numbers',
    ],
    [
      (v) => Object.assign(v.sets[0]?.deltas[0] ?? {}, { beyond_noise: 'yes' }),
      'sets[0].deltas[0].beyond_noise is not true or false',
    ],
    [
      (v) => Object.assign(v.sets[2]?.challenger ?? {}, { accuracy: null }),
      'sets[2].challenger.accuracy is not a number',
    ],
    [(v) => v.sets[0]?.champion.per_class.pop(), 'sets[0].champion.per_class has 2 classes, not 3'],
    [(v) => v.sets[0]?.challenger.confusion[1]?.pop(), 'sets[0].challenger.confusion is not 3 × 3'],
  ];
  for (const [edit, problem] of cases) t.equal(comparisonProblem(JSON.parse(json(edit))), problem, problem);
  t.equal(comparisonProblem([c]), 'it is not a JSON object');
});

t.test('a missing file, not JSON, or not a comparison: BI_ERR_INPUT_FORMAT naming the file', async (t) => {
  const cases: [string | undefined, RegExp][] = [
    [undefined, /^no comparison at .*comparison\.json: give --comparison the JSON `batch-infer evaluate/],
    ['{"format": 1,', /comparison\.json: not JSON \(.*\); --comparison reads the JSON `batch-infer evaluate/],
    [
      `${JSON.stringify({ status: 'succeeded' })}\n`,
      /comparison\.json: not a model comparison: format is undefined, not 1; --comparison reads/,
    ],
  ];
  for (const [text, message] of cases) {
    const err = await read(t, text);
    t.ok(isBatchInferError(err, ErrorCodes.INPUT_FORMAT), String(err));
    t.match((err as Error).message, message);
    t.match((err as { context: object }).context, { file: /comparison\.json$/ });
  }
});
