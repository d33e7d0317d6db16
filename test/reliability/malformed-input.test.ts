import t from 'tap';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import pLimit from 'p-limit';
import { PACKAGE_ROOT } from '../../lib/package-root.js';
import { runCli } from '../cli/spawn-cli.js';
import { tempDir } from '../helpers.js';

// Issue #10, point 3: the malformed input corpus (test/fixtures/malformed/README.md), each file through the
// real CLI. A bad row is rejected with its line and the precise reason; every other row is scored. Each row's
// `weather` cell is `L<its line>`, so the output says which lines were scored. A file the run cannot read as
// rows at all (no header, a required column missing) fails it at once with exit 65.

// Fourteen CLI runs, four at a time.
t.setTimeout(600_000);

const CORPUS = join(PACKAGE_ROOT, 'test', 'fixtures', 'malformed');

type Reason = string | RegExp;
type Expected =
  { scored: number[]; rejects: [line: number, reason: Reason][] } | { exit: 65; stderr: RegExp };

const not = (column: string, what: string): string => `column "${column}": ${what}`;
const utf8 = (field: string): string => `not valid UTF-8: field ${field} holds bytes that decode as U+FFFD`;

const EXPECTED: Record<string, Expected> = {
  'quotes.csv': {
    scored: [2, 4, 6, 8, 9, 10, 12, 14, 16, 17],
    rejects: [
      [3, 'malformed CSV: a quote inside unquoted field 3 (precipitation)'],
      [5, 'malformed CSV: text after the closing quote of field 2 (date)'],
      [
        7,
        'malformed CSV: the record starting on this line breaks on line 9: text after the closing quote of field 2 (date)',
      ],
      [13, 'malformed CSV: a quote inside unquoted field 7 (weather)'],
      [15, 'malformed CSV: the quote of field 7 (weather) is never closed'],
    ],
  },
  'column-counts.csv': {
    scored: [2, 7, 10],
    rejects: [
      [3, 'expected 7 fields, got 6'],
      [4, 'expected 7 fields, got 8'],
      [5, 'expected 7 fields, got 8'],
      [6, 'expected 7 fields, got 1'],
      [8, not('precipitation', 'empty value')],
      [9, 'expected 7 fields, got 1'],
    ],
  },
  'empty-lines.csv': {
    scored: [4, 7, 9],
    rejects: [[10, not('precipitation', 'not a number: "x"')]],
  },
  'bom-crlf.csv': {
    scored: [2, 3, 7, 9],
    rejects: [
      [6, not('precipitation', 'not a number: "abc"')],
      [8, 'malformed CSV: a quote inside unquoted field 7 (weather)'],
    ],
  },
  'huge-fields.csv': {
    scored: [2, 4, 84, 86],
    rejects: [
      [3, not('precipitation', `number out of range: "${'9'.repeat(40)}"… (100000 characters)`)],
      [85, not('temp_max', `not a number: "${'a'.repeat(40)}"… (100000 characters)`)],
    ],
  },
  'non-utf8.csv': {
    scored: [2, 4, 5, 9],
    rejects: [
      [3, utf8('1 (location)')],
      [6, utf8('3 (precipitation)')],
      [7, utf8('7 (weather)')],
      [8, utf8('1 (location)')],
    ],
  },
  'numbers.csv': {
    scored: [10, 11, 13],
    rejects: [
      [2, not('precipitation', 'not a number: "NaN"')],
      [3, not('temp_max', 'not a number: "Infinity"')],
      [4, not('temp_min', 'not a number: "-Infinity"')],
      [5, not('precipitation', 'empty value')],
      [6, not('wind', 'empty value')],
      [7, not('precipitation', 'number out of range: "1e999"')],
      [8, not('precipitation', 'not a number: "0x1F"')],
      [9, not('precipitation', 'not a number: "1,5"')],
      [12, not('precipitation', 'not a number: "nan"')],
      [14, not('precipitation', 'not a number: "1.2.3"')],
    ],
  },
  'dates.csv': {
    scored: [12, 13, 14, 15, 16],
    rejects: [
      [2, not('date', 'impossible date: "2013-02-29"')],
      [3, not('date', 'impossible date: "2012-02-30"')],
      [4, not('date', 'impossible date: "2012-13-01"')],
      [5, not('date', 'impossible date: "2012-00-10"')],
      [6, not('date', 'impossible date: "2012-04-31"')],
      [7, not('date', 'impossible date: "1900-02-29"')],
      [8, not('date', 'not an ISO date (YYYY-MM-DD): "2012-1-5"')],
      [9, not('date', 'not an ISO date (YYYY-MM-DD): "01/02/2012"')],
      [10, not('date', 'empty value')],
      [11, not('date', 'impossible time: "2012-01-05T25:00"')],
    ],
  },
  'records.jsonl': {
    scored: [1, 2, 15, 16, 18],
    rejects: [
      // V8's wording, which later versions extend with the line and column.
      [3, /^not JSON: Unterminated string in JSON at position 40/],
      [4, 'not a JSON object'],
      [5, 'not a JSON object'],
      [6, 'not a JSON object'],
      [7, 'not a JSON object'],
      [9, not('precipitation', 'not a number: "abc"')],
      [10, not('temp_max', 'not a number: "true"')],
      [11, not('temp_min', 'not a number: "{\\"c\\":5}"')],
      [12, not('wind', 'empty value')],
      [13, not('date', 'empty value')],
      // 1e400 is beyond a double: JSON.parse reads it as Infinity.
      [14, not('precipitation', 'not a number: "Infinity"')],
      [17, 'not valid UTF-8: the line holds bytes that decode as U+FFFD'],
    ],
  },
  'bom-crlf.jsonl': {
    scored: [1, 4],
    rejects: [[3, not('wind', 'not a number: "calm"')]],
  },
  'missing-column.csv': {
    exit: 65,
    stderr: /batch-infer run: Input lacks column\(s\) the model needs: temp_min \(input has: location, date/,
  },
  'missing-column.jsonl': {
    exit: 65,
    stderr: /batch-infer run: Input lacks column\(s\) the model needs: temp_min \(input has: location, date/,
  },
  'first-line-bad.jsonl': {
    exit: 65,
    stderr: /batch-infer run: JSON Lines input, line 1: not JSON: /,
  },
  'unclosed-header.csv': {
    exit: 65,
    stderr: /batch-infer run: Input is not valid CSV: Quote Not Closed/,
  },
};

t.test('every file of the corpus has its expectations, and nothing else does', async (t) => {
  const files = (await readdir(CORPUS)).filter((f) => f !== 'README.md').sort();
  t.same(files, Object.keys(EXPECTED).sort());
});

// The runs are independent: four at a time, each in its own directory, then checked one by one.
const root = await tempDir(t);
const limit = pLimit(4);
const runs = new Map(
  Object.keys(EXPECTED).map((file) => {
    const dir = join(root, file);
    const done = limit(async () => {
      await mkdir(dir);
      return runCli(['run', '-i', join(CORPUS, file), '-o', join(dir, 'out.csv')]);
    });
    return [file, { dir, done }];
  }),
);

for (const [file, expected] of Object.entries(EXPECTED)) {
  t.test(file, async (t) => {
    const { dir, done } = runs.get(file) as { dir: string; done: ReturnType<typeof runCli> };
    const res = await done;
    if ('exit' in expected) {
      t.equal(res.code, expected.exit);
      t.match(res.stderr, expected.stderr);
      const left = (await readdir(dir)).filter((f) => f !== 'out.metrics.prom');
      t.same(left, [], 'no output, rejects, summary or temporary file');
      return;
    }
    t.equal(res.code, 0, 'bad rows do not fail the run');
    const output = parse(await readFile(join(dir, 'out.csv')));
    t.same(
      output.slice(1).map((row) => Number(row[6]?.slice(1))),
      expected.scored,
      'every other row is scored, in input order',
    );
    if (file === 'huge-fields.csv') {
      t.equal(output[1]?.[0], 'x'.repeat(100_000), 'a huge field passes through whole');
      t.equal(
        output[2]?.[0],
        Array.from({ length: 80 }, () => 'y'.repeat(999)).join('\n'),
        'quoted newlines too',
      );
    }
    const rejects = parse(await readFile(join(dir, 'out.rejects.csv')), { relax_column_count: true });
    t.same(rejects[0]?.slice(-2), ['line', 'error']);
    const found = rejects.slice(1).map((row) => [Number(row.at(-2)), row.at(-1)]);
    t.same(
      found.map(([line]) => line),
      expected.rejects.map(([line]) => line),
      'the rejected lines',
    );
    for (const [i, [line, reason]] of expected.rejects.entries()) {
      if (typeof reason === 'string') t.equal(found[i]?.[1], reason, `line ${line}`);
      else t.match(found[i]?.[1], reason, `line ${line}`);
    }
    const summary = JSON.parse(await readFile(join(dir, 'out.summary.json'), 'utf8')) as {
      rows: { read: number; scored: number; rejected: number };
    };
    t.same(summary.rows, {
      read: expected.scored.length + expected.rejects.length,
      scored: expected.scored.length,
      rejected: expected.rejects.length,
    });
  });
}
