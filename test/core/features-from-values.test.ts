import t from 'tap';
import {
  computeFeatures,
  featuresFromValues,
  rawFeature,
  type FeatureSpec,
} from '../../lib/core/features.js';
import { mulberry32 } from '../../lib/core/prng.js';

// featuresFromValues is computeFeatures for values arrays (the Preprocessor's per-row path, issue #7): the same
// raw values, features and reasons. Rows are drawn from good, odd and bad values of every column.

const specs: FeatureSpec[] = [
  {
    name: 'precipitation',
    column: 'precipitation',
    transform: { type: 'number' },
    standardize: { mean: 3, std: 6.3 },
  },
  // A tiny std: a huge value parses, then overflows float32.
  {
    name: 'temp_max',
    column: 'temp_max',
    transform: { type: 'number' },
    standardize: { mean: 16, std: 1e-5 },
  },
  {
    name: 'doy_sin',
    column: 'date',
    transform: { type: 'day_of_year', fn: 'sin', period: 365.25 },
    standardize: { mean: 0, std: 0.7 },
  },
  {
    name: 'doy_cos',
    column: 'date',
    transform: { type: 'day_of_year', fn: 'cos', period: 365.25 },
    standardize: { mean: 0, std: 0.7 },
  },
  { name: 'wind', column: 'wind', transform: { type: 'number' }, standardize: { mean: 3, std: 1.5 } },
];
const columns = ['location', 'date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'weather'];

const numbers = [
  '0.0',
  '16.1',
  '-3',
  '.5',
  '5.',
  '1e3',
  ' 2.5',
  '2.5\t',
  '',
  '  ',
  'abc',
  '0x10',
  '1e999',
  '-1e308',
];
const dates = [
  '2012-03-21',
  '2012-02-29',
  '2013-02-29',
  '2012-13-01',
  '2012-12-31T23:59:60Z',
  '2012-12-31 24:00',
  ' 2012-01-01',
  '2012-1-1',
  '',
  'x'.repeat(60),
];

/** What the Preprocessor did before: computeFeatures over a record, then every raw value with NaN gaps. */
function before(values: readonly string[]): { reason?: string; raw: number[]; features?: number[] } {
  const record: Record<string, string | undefined> = {};
  for (const spec of specs) record[spec.column] = values[columns.indexOf(spec.column)];
  const result = computeFeatures(specs, record);
  if (result.ok) return { raw: [...result.raw], features: [...result.features] };
  const raw = specs.map((spec) => {
    const parsed = rawFeature(spec, record);
    return parsed.ok ? parsed.value : Number.NaN;
  });
  return { reason: result.reason, raw };
}

function after(values: readonly string[]): { reason?: string; raw: number[]; features?: number[] } {
  const raw = new Float64Array(specs.length);
  const features = new Float32Array(specs.length);
  const reason = featuresFromValues(specs, columns)(values, raw, features);
  return reason === undefined ? { raw: [...raw], features: [...features] } : { reason, raw: [...raw] };
}

t.test(
  'featuresFromValues = computeFeatures, reasons and raw values included, over 5,000 drawn rows',
  (t) => {
    const random = mulberry32(17);
    const pick = (list: readonly string[]): string => list[Math.floor(random() * list.length)] as string;
    let mismatches = 0;
    let rejected = 0;
    for (let n = 0; n < 5000; n++) {
      // Mostly good rows, as in real input; every fourth draws from the bad values too.
      const odd = n % 4 === 0;
      const values = [
        'Seattle',
        odd ? pick(dates) : pick(dates.slice(0, 2)),
        odd ? pick(numbers) : pick(numbers.slice(0, 6)),
        odd ? pick(numbers) : pick(numbers.slice(0, 6)),
        '1.0',
        odd ? pick(numbers) : pick(numbers.slice(0, 6)),
        'sun',
      ];
      const expected = before(values);
      if (expected.reason !== undefined) rejected++;
      const got = after(values);
      if (
        JSON.stringify(got) !== JSON.stringify(expected) ||
        !got.raw.every((v, i) => Object.is(v, expected.raw[i]))
      ) {
        mismatches++;
        if (mismatches <= 5) t.same(got, expected, JSON.stringify(values));
      }
    }
    t.equal(mismatches, 0);
    t.ok(rejected > 500, `${rejected} rows rejected`);
    t.end();
  },
);

t.test('the first bad feature, in spec order, gives the reason; the others are still read', (t) => {
  const values = ['Seattle', '2012-03-21', 'wet', '1e300', '1.0', 'calm', 'sun'];
  t.same(after(values), before(values));
  t.equal(after(values).reason, 'column "precipitation": not a number: "wet"');
  const overflow = ['Seattle', '2012-03-21', '1', '1e300', '1.0', 'calm', 'sun'];
  t.equal(after(overflow).reason, 'column "temp_max": 1e+300 is out of range');
  t.same(after(overflow).raw.slice(0, 2), [1, 1e300], 'an out-of-range value is still a raw value');
  t.end();
});

t.test('a column the input lacks, or a short row, is a missing value', (t) => {
  const featurize = featuresFromValues(specs, ['date', 'precipitation', 'temp_max']);
  const raw = new Float64Array(specs.length);
  const features = new Float32Array(specs.length);
  t.equal(featurize(['2012-03-21', '1', '2'], raw, features), 'column "wind": missing value');
  t.ok(Number.isNaN(raw[4]));
  t.equal(featurize(['2012-03-21'], raw, features), 'column "precipitation": missing value');
  t.end();
});
