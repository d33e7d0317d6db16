import t from 'tap';
import { computeFeatures, rawFeature, type FeatureSpec } from '../../lib/core/features.js';
import { parseDayOfYear, parseDecimal } from '../../lib/core/parse.js';

t.test('parseDayOfYear counts from 1 and knows leap years', (t) => {
  const cases: [string, number][] = [
    ['2012-01-01', 1],
    ['2012-02-29', 60],
    ['2012-03-01', 61],
    ['2012-12-31', 366],
    ['2013-03-01', 60],
    ['2013-12-31', 365],
    ['2000-12-31', 366],
    ['2015-06-30T12:00:00Z', 181],
  ];
  for (const [text, doy] of cases) t.same(parseDayOfYear(text), { ok: true, value: doy }, text);
  t.end();
});

t.test('parseDayOfYear rejects impossible and malformed dates with a reason', (t) => {
  const cases: [string | undefined, RegExp][] = [
    ['2013-02-29', /impossible date/],
    ['1900-02-29', /impossible date/],
    ['2012-13-01', /impossible date/],
    ['2012-04-31', /impossible date/],
    ['2012-00-10', /impossible date/],
    ['2012-1-1', /not an ISO date/],
    ['01/02/2012', /not an ISO date/],
    ['', /empty value/],
    [undefined, /missing value/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseDayOfYear(text);
    t.equal(parsed.ok, false, String(text));
    if (!parsed.ok) t.match(parsed.reason, reason, String(text));
  }
  t.end();
});

t.test('parseDecimal accepts decimal literals only', (t) => {
  const accepted: [string, number][] = [
    ['-1.5', -1.5],
    ['+2', 2],
    ['.5', 0.5],
    ['1e3', 1000],
    ['5.', 5],
    [' 3.25 ', 3.25],
    ['0.0', 0],
  ];
  for (const [text, value] of accepted) t.same(parseDecimal(text), { ok: true, value }, text);

  const rejected: [string | undefined, RegExp][] = [
    ['', /empty value/],
    ['   ', /empty value/],
    [undefined, /missing value/],
    ['abc', /not a number/],
    ['0x10', /not a number/],
    ['NaN', /not a number/],
    ['Infinity', /not a number/],
    ['1,5', /not a number/],
    ['.', /not a number/],
    ['1e999', /out of range/],
  ];
  for (const [text, reason] of rejected) {
    const parsed = parseDecimal(text);
    t.equal(parsed.ok, false, JSON.stringify(text));
    if (!parsed.ok) t.match(parsed.reason, reason, JSON.stringify(text));
  }
  t.end();
});

const specs: FeatureSpec[] = [
  { name: 'temp_max', column: 'temp_max', transform: { type: 'number' }, standardize: { mean: 16, std: 8 } },
  { name: 'wind', column: 'wind', transform: { type: 'number' }, standardize: { mean: 3, std: 1.5 } },
  {
    name: 'doy_sin',
    column: 'date',
    transform: { type: 'day_of_year', fn: 'sin', period: 365.25 },
    standardize: { mean: 0.5, std: 0.5 },
  },
  {
    name: 'doy_cos',
    column: 'date',
    transform: { type: 'day_of_year', fn: 'cos', period: 365.25 },
    standardize: { mean: 0, std: 2 },
  },
];
// Seattle, 2012-03-21 from vega-datasets' weather.csv: day 81 of a leap year.
const row = {
  location: 'Seattle',
  date: '2012-03-21',
  precipitation: '0.0',
  temp_max: '9.4',
  temp_min: '0.6',
  wind: '2.2',
  weather: 'sun',
};

t.test('computeFeatures returns raw and standardized values for a real row', (t) => {
  const angle = (2 * Math.PI * 81) / 365.25;
  const raw = [9.4, 2.2, Math.sin(angle), Math.cos(angle)];
  const expected = [(9.4 - 16) / 8, (2.2 - 3) / 1.5, (Math.sin(angle) - 0.5) / 0.5, Math.cos(angle) / 2];
  const result = computeFeatures(specs, row);
  if (!result.ok) throw new Error(result.reason);
  t.same([...result.raw], raw);
  t.equal(result.features.length, expected.length);
  result.features.forEach((v, i) => {
    t.ok(Math.abs(v - (expected[i] as number)) < 1e-6, `${specs[i]?.name}: ${v} ≈ ${expected[i]}`);
  });
  t.same(rawFeature(specs[2] as FeatureSpec, row), { ok: true, value: Math.sin(angle) });
  t.end();
});

t.test('a bad value rejects the record and names its column', (t) => {
  t.match(computeFeatures(specs, { ...row, wind: 'calm' }), {
    ok: false,
    reason: /^column "wind": not a number/,
  });
  t.match(computeFeatures(specs, { ...row, date: '2013-02-29' }), {
    ok: false,
    reason: /^column "date": impossible date/,
  });
  t.match(computeFeatures(specs, { ...row, temp_max: undefined }), {
    ok: false,
    reason: /^column "temp_max": missing value/,
  });
  t.end();
});
