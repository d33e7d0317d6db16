import t from 'tap';
import { dayOfYearValue, decimalValue, parseDayOfYear, parseDecimal } from '../../lib/core/parse.js';

// The Preprocessor's fast paths (issue #7) must take exactly what the full parsers take, with the same value:
// `decimalValue` is `parseDecimal` without its object, `dayOfYearValue` `parseDayOfYear` for a bare date.

const valueOf = (parsed: ReturnType<typeof parseDecimal>): number => (parsed.ok ? parsed.value : Number.NaN);

/** Every string of up to `length` characters from `alphabet`. */
function* strings(alphabet: readonly string[], length: number): Generator<string> {
  yield '';
  let previous = [''];
  for (let n = 1; n <= length; n++) {
    const next: string[] = [];
    for (const p of previous) for (const c of alphabet) next.push(p + c);
    yield* next;
    previous = next;
  }
}

t.test('decimalValue = parseDecimal on every short string of number-ish characters', (t) => {
  const alphabet = ['0', '7', '+', '-', '.', 'e', 'E', ' ', '\t', 'x', '\u00a0', '\ufeff'];
  let checked = 0;
  let mismatches = 0;
  for (const text of strings(alphabet, 5)) {
    checked++;
    if (!Object.is(decimalValue(text), valueOf(parseDecimal(text)))) {
      mismatches++;
      if (mismatches <= 5) t.fail(`differs on ${JSON.stringify(text)}`);
    }
  }
  t.equal(mismatches, 0, `${checked} strings`);
  t.end();
});

t.test('decimalValue = parseDecimal on real-world and edge values', (t) => {
  const cases = [
    undefined,
    '',
    '0.0',
    '16.1',
    '-0',
    '-1.5e-3',
    '1e999',
    '-1e308',
    '9'.repeat(400),
    `0.${'1'.repeat(400)}`,
    ' 3.25 ',
    '3.25\n',
    '\n3.25',
    '1_000',
    '١٢',
    'Infinity',
    'NaN',
    '0x1f',
    '0b1',
    '1e',
    '1e+',
    '.e1',
    '+.5',
    '5.e2',
  ];
  for (const text of cases)
    t.ok(Object.is(decimalValue(text), valueOf(parseDecimal(text))), JSON.stringify(text));
  t.end();
});

t.test('dayOfYearValue = parseDayOfYear on bare dates, possible or not', (t) => {
  let checked = 0;
  let mismatches = 0;
  for (const year of ['0000', '1900', '2000', '2012', '2013', '2100', '9999'])
    for (let month = 0; month <= 13; month++)
      for (let day = 0; day <= 32; day++) {
        const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        checked++;
        if (!Object.is(dayOfYearValue(text), valueOf(parseDayOfYear(text)))) {
          mismatches++;
          if (mismatches <= 5) t.fail(`differs on ${text}`);
        }
      }
  t.equal(mismatches, 0, `${checked} dates`);
  t.end();
});

t.test('dayOfYearValue takes a bare date only; anything else is left to parseDayOfYear', (t) => {
  // NaN means "ask parseDayOfYear": for a valid date with a time or spaces, it answers; the fast path does not.
  const base = '2012-03-21';
  const alphabet = ['0', '9', '-', ' ', 'T', ':', '/', '\u0660', 'Z'];
  let mismatches = 0;
  for (let i = 0; i < base.length; i++)
    for (const c of alphabet) {
      const text = base.slice(0, i) + c + base.slice(i + 1);
      const fast = dayOfYearValue(text);
      const full = parseDayOfYear(text);
      if (!(Number.isNaN(fast) ? true : full.ok && full.value === fast)) {
        mismatches++;
        t.fail(`differs on ${JSON.stringify(text)}`);
      }
      // A refused bare date is refused by the full parser too.
      if (Number.isNaN(fast) && text.length === 10 && full.ok && /^\d{4}-\d{2}-\d{2}$/.test(text)) {
        mismatches++;
        t.fail(`fast path missed ${text}`);
      }
    }
  t.equal(mismatches, 0);
  for (const text of [
    undefined,
    '',
    ' 2012-03-21',
    '2012-03-21 ',
    '2012-03-21T12:00',
    '2012-3-21',
    '20120321',
  ])
    t.ok(Number.isNaN(dayOfYearValue(text)), `${JSON.stringify(text)}: NaN`);
  t.end();
});
