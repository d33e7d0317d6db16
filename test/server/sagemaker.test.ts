import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import t from 'tap';
import { normalizeServerOptions, type ModelServerOptions } from '../../server/options.js';
import { executionParameters } from '../../server/sagemaker/routes.js';
import { startServer } from '../helpers.js';
import { asFloat32, CSV_LINES, expectedFor, HEADERLESS_CSV, RECORDS } from './single-model-helpers.js';

type Params = ReturnType<typeof executionParameters>;

interface Prediction {
  label: string;
  classes: string[];
  scores: number[];
}

const invoke = (url: string, body: string, contentType: string, accept?: string) =>
  fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(accept === undefined ? {} : { accept }) },
    body,
  });

async function predictions(res: Response): Promise<Prediction[]> {
  const body = (await res.json()) as { predictions: Prediction[] };
  return body.predictions;
}

t.test('GET /ping is 200 when ready, 503 without a model', async (t) => {
  const url = await startServer(t);
  const ping = await fetch(`${url}/ping`);
  t.equal(ping.status, 200);
  t.equal(await ping.text(), '');
  const empty = await startServer(t, { models: await mkdtemp(`${tmpdir()}/empty-repo-`) });
  t.equal((await fetch(`${empty}/ping`)).status, 503);
  t.equal((await invoke(empty, HEADERLESS_CSV, 'text/csv')).status, 503);
});

t.test('GET /execution-parameters', async (t) => {
  const url = await startServer(t, { workers: 2 });
  t.same(await (await fetch(`${url}/execution-parameters`)).json(), {
    MaxConcurrentTransforms: 2,
    BatchStrategy: 'MULTI_RECORD',
    MaxPayloadInMB: 6,
  });
  const small = await startServer(t, { workers: 2, maxBodyBytes: 3.5 * 1024 * 1024 });
  t.equal(((await (await fetch(`${small}/execution-parameters`)).json()) as Params).MaxPayloadInMB, 3);
  // SageMaker requires MaxConcurrentTransforms × MaxPayloadInMB ≤ 100, and MaxPayloadInMB 0 means streaming.
  const params = (options: ModelServerOptions) => executionParameters(normalizeServerOptions(options));
  t.same(params({ workers: 64 }), {
    MaxConcurrentTransforms: 16,
    BatchStrategy: 'MULTI_RECORD',
    MaxPayloadInMB: 6,
  });
  t.same(params({ workers: 64, maxBodyBytes: 1000 }).MaxPayloadInMB, 1);
  t.same(params({ workers: 64, maxBodyBytes: 1000 }).MaxConcurrentTransforms, 64);
});

t.test('CSV of raw columns, with and without a header, scores like /v2', async (t) => {
  const url = await startServer(t);
  const expected = await expectedFor(url);
  for (const [name, body] of [
    ['header with extra columns', CSV_LINES.join('\n') + '\n'],
    [
      'header, other column order, CRLF',
      'wind,date,temp_min,temp_max,precipitation\r\n' +
        RECORDS.map((r) => [r.wind, r.date, r.temp_min, r.temp_max, r.precipitation].join(',')).join('\r\n'),
    ],
    ['no header: model.json column order', HEADERLESS_CSV],
  ] as const) {
    const res = await invoke(url, body, 'text/csv; charset=utf-8');
    t.equal(res.status, 200, name);
    t.match(res.headers.get('content-type'), /application\/json/, `${name}: JSON by default`);
    const got = await predictions(res);
    t.same(
      got.map((p) => p.label),
      expected.labels,
      name,
    );
    t.same(got[0]?.classes, expected.contract.labels);
    t.same(
      got.map((p) => asFloat32(p.scores)),
      expected.probabilities,
      `${name}: same probabilities as /v2`,
    );
  }
});

t.test('JSON and JSON Lines: raw records, feature arrays, bare lists', async (t) => {
  const url = await startServer(t);
  const expected = await expectedFor(url);
  const numeric = RECORDS.map((r) => ({
    ...r,
    wind: Number(r.wind),
    precipitation: Number(r.precipitation),
  }));
  const bodies: [string, string, string][] = [
    ['records in {"instances"}', 'application/json', JSON.stringify({ instances: RECORDS })],
    ['records with numbers, bare list', 'application/json', JSON.stringify(numeric)],
    ['feature arrays', 'application/json', JSON.stringify({ instances: expected.features })],
    ['JSON Lines', 'application/jsonlines', RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n'],
  ];
  for (const [name, type, body] of bodies) {
    const res = await invoke(url, body, type);
    t.equal(res.status, 200, name);
    const got = await predictions(res);
    t.same(
      got.map((p) => p.label),
      expected.labels,
      name,
    );
    t.same(
      got.map((p) => asFloat32(p.scores)),
      expected.probabilities,
      name,
    );
  }
});

t.test('Accept picks the answer: CSV lines, JSON Lines, or 406', async (t) => {
  const url = await startServer(t);
  const expected = await expectedFor(url);
  const csv = await invoke(url, HEADERLESS_CSV, 'text/csv', 'text/csv');
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type'), /^text\/csv/);
  const lines = (await csv.text()).split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.equal(lines.length, RECORDS.length, 'one line per row');
  lines.forEach((line, i) => {
    const [label, ...probabilities] = line.split(',');
    t.equal(label, expected.labels[i]);
    t.same(asFloat32(probabilities.map(Number)), expected.probabilities[i]);
  });

  const jsonl = await invoke(url, HEADERLESS_CSV, 'text/csv', 'application/jsonlines');
  t.equal(jsonl.status, 200);
  const rows = (await jsonl.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Prediction);
  t.same(
    rows.map((p) => p.label),
    expected.labels,
  );

  const preferred = await invoke(url, HEADERLESS_CSV, 'text/csv', 'text/plain;q=0.5, text/csv');
  t.match(preferred.headers.get('content-type'), /^text\/csv/);
  const anything = await invoke(url, HEADERLESS_CSV, 'text/csv', '*/*');
  t.match(anything.headers.get('content-type'), /application\/json/);

  const refused = await invoke(url, HEADERLESS_CSV, 'text/csv', 'image/png');
  t.equal(refused.status, 406);
  t.match(((await refused.json()) as { error: string }).error, /Accept must allow one of/);
});

t.test('bad requests are 400/415 and name the row at fault', async (t) => {
  const url = await startServer(t);
  const badWind = [CSV_LINES[0], CSV_LINES[1], CSV_LINES[2]?.replace(',4.5,', ',abc,')].join('\n');
  const cases: [string, string, string, number, RegExp][] = [
    ['bad value, header', 'text/csv', badWind, 400, /^Row 2 \(line 3\): column "wind": not a number: "abc"$/],
    [
      'bad date, no header',
      'text/csv',
      HEADERLESS_CSV.replace('2012-01-02', '2012-02-30'),
      400,
      /^Row 2 \(line 2\): column "date": impossible date/,
    ],
    [
      'empty cell',
      'text/csv',
      '0.0,12.8,,4.7,2012-01-01',
      400,
      /^Row 1 \(line 1\): column "temp_min": empty value/,
    ],
    [
      'too few values, no header',
      'text/csv',
      '0.0,12.8,5.0,4.7',
      400,
      /Row 1 \(line 1\): has 4 values, expected 5/,
    ],
    [
      'header lacks a column',
      'text/csv',
      'date,precipitation,temp_max,temp_min\n2012-01-01,0,1,2',
      400,
      /header lacks the column "wind"/,
    ],
    ['unclosed quote', 'text/csv', '"0.0,12.8', 400, /CSV body cannot be parsed/],
    ['empty body', 'text/csv', '', 400, /holds no instances/],
    ['bad JSON', 'application/json', '{"instances": [', 400, /not valid JSON/],
    ['JSON without instances', 'application/json', '{"rows": []}', 400, /\{"instances": \[\.\.\.\]\}/],
    [
      'bad JSON instance',
      'application/json',
      JSON.stringify({ instances: [RECORDS[0], { ...RECORDS[0], wind: true }] }),
      400,
      /^instances\[1\]: column "wind": not a number: "true"$/,
    ],
    [
      'missing column in a record',
      'application/json',
      JSON.stringify([{ date: '2012-01-01' }]),
      400,
      /^instances\[0\]: column "precipitation": missing value$/,
    ],
    [
      'short feature array',
      'application/json',
      '[[1, 2, 3]]',
      400,
      /^instances\[0\]: a feature array needs 6 values/,
    ],
    [
      'bad JSON line',
      'application/jsonlines',
      `${JSON.stringify(RECORDS[0])}\n\n{oops`,
      400,
      /^Line 3: not valid JSON/,
    ],
    [
      'unsupported type',
      'application/x-www-form-urlencoded',
      'a=1',
      415,
      /Content-Type "application\/x-www-form-urlencoded" is not supported/,
    ],
  ];
  for (const [name, type, body, status, message] of cases) {
    const res = await invoke(url, body, type);
    t.equal(res.status, status, name);
    t.match(((await res.json()) as { error: string }).error, message, name);
  }
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.match(
    metrics,
    /model_prediction_errors_total\{model_name="weather",model_version="1",reason="validation"\} 13/,
  );
});

t.test('defaultModel picks the model; an unknown one is 404', async (t) => {
  const url = await startServer(t, { defaultModel: 'nope' });
  const res = await invoke(url, HEADERLESS_CSV, 'text/csv');
  t.equal(res.status, 404);
  t.match(((await res.json()) as { error: string }).error, /Unknown model "nope"/);
});
