/**
 * Fuzzing the single-model routes (issue #10 point 4): SageMaker `/invocations` with CSV, JSON and JSON Lines
 * bodies under any Content-Type and Accept, and Vertex AI predict. Bodies range from valid records to broken
 * quoting, wrong column counts, odd cells (BOM, NUL, CR, quotes, huge numbers, impossible dates) and arbitrary
 * JSON. Valid ones are answered 200; all others 4xx `{"error"}`, giving nothing of the server away.
 */
import t from 'tap';
import fc from 'fast-check';
import { FUZZ_SEED, fuzzServer, moderateJson, runs, type Answer, type FuzzServer } from './fuzz-client.js';

/** The weather model's raw columns, in model.json's order (a headerless CSV row follows it). */
const COLUMNS = ['precipitation', 'temp_max', 'temp_min', 'wind', 'date'];

const anything = moderateJson(3);
/** Stands for the number literal 1e999 in generated JSON (see jsonText). */
const HUGE = '<1e999>';
const number = fc.double({ min: -40, max: 50, noNaN: true });
const validDate = fc
  .date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
/** A cell or value no column accepts, or only just. */
const hostile = fc.oneof(
  fc.constantFrom(
    '',
    '"',
    '""',
    '"a,b"',
    'NaN',
    'Infinity',
    '1e999',
    '\ufeff1',
    '1\u0000',
    '\r',
    ' 3 ',
    '1,5',
  ),
  fc.constantFrom(
    '2015-02-30',
    '2015-13-01',
    '0000-00-00',
    '2015-6-1',
    'yesterday',
    '1e308',
    '-1e308',
    '5e-324',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** A valid record of raw columns, as text; sometimes one column is hostile or missing. */
const record = fc
  .tuple(
    fc.tuple(number, number, number, fc.double({ min: 0, max: 20, noNaN: true }), validDate),
    fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 6 },
      fc.tuple(fc.constantFrom(...COLUMNS), fc.option(hostile, { nil: undefined })),
    ),
  )
  .map(([values, change]) => {
    const out: Record<string, string | undefined> = {};
    COLUMNS.forEach((c, i) => (out[c] = String(values[i])));
    if (change !== undefined) out[change[0]] = change[1];
    return out;
  });
const csvBody = fc
  .tuple(
    fc.oneof(
      fc.constant(undefined),
      fc.shuffledSubarray(COLUMNS, { minLength: COLUMNS.length }),
      fc.shuffledSubarray([...COLUMNS, 'extra'], { minLength: 1 }),
    ),
    fc.array(record, { maxLength: 6 }),
    fc.constantFrom('\n', '\r\n'),
    fc.boolean(),
  )
  .map(([header, rows, eol, bom]) => {
    const columns = header ?? COLUMNS;
    const lines = rows.map((r) => columns.map((c) => r[c] ?? '').join(','));
    return (bom ? '\ufeff' : '') + [...(header === undefined ? [] : [header.join(',')]), ...lines].join(eol);
  });
/** A JSON instance: a record (strings or numbers), a feature array, or anything. */
const instance = fc.oneof(
  { arbitrary: record, weight: 3 },
  record.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, k === 'date' || Number.isNaN(Number(v)) ? v : Number(v)]),
    ),
  ),
  fc.array(fc.oneof({ arbitrary: number, weight: 12 }, fc.constant(HUGE), anything), {
    minLength: 5,
    maxLength: 7,
  }),
  anything,
);
const instances = fc.array(instance, { maxLength: 3 });
/** JSON text of `value`, with every HUGE marker written as the literal 1e999 (which JSON.parse reads as Infinity). */
const jsonText = (value: unknown): string => JSON.stringify(value).replaceAll(`"${HUGE}"`, '1e999');

const CONTENT_TYPES = [
  'text/csv; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  '',
  'multipart/form-data; boundary=x',
  ';;;',
];
const ACCEPTS = ['*/*', 'text/html', 'x/y;q=0', ''];

/**
 * A 200 must hold real probabilities: inputs are moderate or overflow float32 (fuzz-client.ts), and the latter
 * must have been refused, not scored into NaN.
 */
function checkScores(answer: Answer): void {
  if (answer.status === 200 && /\bnull\b|NaN|Infinity/.test(answer.text))
    throw new Error(`a prediction is not a number: ${answer.text.slice(0, 300)}`);
}

async function properties(server: FuzzServer, seed: number, scale: number): Promise<void> {
  const options = (n: number) => ({ seed, numRuns: Math.max(1, Math.round(runs(n) * scale)) });
  const json = instances.map((list) => jsonText({ instances: list }));
  const jsonLines = instances.map((list) => list.map(jsonText).join('\n'));
  const request = fc.oneof(
    { arbitrary: fc.tuple(fc.constant('text/csv'), csvBody), weight: 3 },
    { arbitrary: fc.tuple(fc.constant('application/json'), json), weight: 3 },
    fc.tuple(fc.constant('application/json'), instances.map(jsonText)),
    { arbitrary: fc.tuple(fc.constant('application/jsonlines'), jsonLines), weight: 2 },
    fc.tuple(
      fc.constantFrom(...CONTENT_TYPES),
      fc.oneof(csvBody, json, jsonLines, fc.string({ unit: 'binary', maxLength: 200 })),
    ),
    fc.tuple(
      fc.constantFrom('text/csv', 'application/json', 'application/jsonlines'),
      fc.oneof(
        moderateJson(5).map((v) => JSON.stringify(v)),
        fc.string({ unit: 'binary', maxLength: 200 }),
      ),
    ),
  );
  const accept = fc.oneof(
    { arbitrary: fc.constantFrom('application/json', 'text/csv', 'application/jsonlines'), weight: 4 },
    fc.constantFrom(...ACCEPTS),
  );
  await fc.assert(
    fc.asyncProperty(request, accept, async ([type, text], acceptable) => {
      const headers: Record<string, string> = {};
      if (type !== '') headers['content-type'] = type;
      if (acceptable !== '') headers.accept = acceptable;
      checkScores(await server.expect({ method: 'POST', path: '/invocations', headers, body: text }, true));
    }),
    options(500),
  );
  const vertex = fc.oneof(
    fc
      .record(
        {
          instances: fc.oneof({ arbitrary: instances, weight: 6 }, anything),
          parameters: fc.option(anything),
        },
        { requiredKeys: ['instances'] },
      )
      .map(jsonText),
    moderateJson(5).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  await fc.assert(
    fc.asyncProperty(vertex, async (text) => {
      checkScores(
        await server.expect(
          { method: 'POST', path: '/predict', headers: { 'content-type': 'application/json' }, body: text },
          true,
        ),
      );
    }),
    options(300),
  );
}

t.test('SageMaker and Vertex AI routes answer every malformed body with a 4xx {"error"}', async (t) => {
  const server = await fuzzServer(t, { maxBodyBytes: 1024 * 1024 });
  await properties(server, FUZZ_SEED + 1, 0.25);
  await server.baseline();
  await properties(server, FUZZ_SEED, 1);
  await server.finish();
});
