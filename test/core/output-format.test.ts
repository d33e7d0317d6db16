/**
 * The output format writes CSV itself (lib/core/output-format.ts): its probabilities must be the definition's
 * text, and its rows csv-stringify's bytes, whatever the cells hold. benchmarks/check-format.ts checks every
 * float32 probability; this checks samples and the edges.
 */
import t from 'tap';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { csvField, formatProbability, OutputFormat } from '../../lib/core/output-format.js';
import { MAX_PROBABILITY_BYTES, writeProbability } from '../../lib/core/probability-text.js';
import { argmaxRow } from '../../lib/core/metrics.js';
import type { ScoredBatch } from '../../lib/types.js';

const definition = (p: number): string => String(Number(p.toPrecision(9)));

/** writeProbability's bytes for p, written after a byte that must stay, into a buffer of just enough room. */
function written(p: number): string {
  const out = Buffer.alloc(1 + MAX_PROBABILITY_BYTES, 0x7c);
  const end = writeProbability(out, 1, p);
  if (out[0] !== 0x7c) throw new Error('wrote before pos');
  return out.toString('latin1', 1, end);
}

t.test('formatProbability is String(Number(p.toPrecision(9))) for float32 values', async (t) => {
  fc.assert(
    fc.property(fc.float({ noNaN: true }), (p) => formatProbability(p) === definition(p)),
    { numRuns: 20_000 },
  );
  // Probabilities: [0, 1], and many decades of small ones.
  fc.assert(
    fc.property(fc.float({ min: 0, max: 1, noNaN: true }), (p) => formatProbability(p) === definition(p)),
    { numRuns: 20_000 },
  );
  const edges: number[] = [0, -0, 1, 0.5, 1e-13, 1e-7, 1e-6, 1e-4, 0.001, 0.01, 0.1, 0.99999994, 1.5, -0.25];
  for (const e of [...edges]) {
    const f = Math.fround(e);
    edges.push(f, Math.fround(f * (1 + 2 ** -23)), Math.fround(f * (1 - 2 ** -24)));
  }
  edges.push(NaN, Infinity, -Infinity, 2 ** -149, 0.1 + 0.2, 1 / 3);
  edges.push(-1.23456789e-100, -0.00000123456789, -123456789012345680000, 1e21, -Number.MAX_VALUE);
  for (const p of edges) {
    t.equal(formatProbability(p), definition(p), `${p}`);
    t.equal(written(p), definition(p), `${p} as bytes`);
  }
});

t.test("writeProbability writes formatProbability's text as ASCII", async (t) => {
  fc.assert(
    fc.property(fc.float({ noNaN: true }), (p) => written(p) === definition(p)),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(fc.float({ min: 0, max: 1, noNaN: true }), (p) => written(p) === definition(p)),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(fc.double(), (p) => written(p) === definition(p)),
    { numRuns: 20_000 },
  );
  // Every decade from 1e-45 up: plain from 1e-6, exponential below, 1 to 9 digits.
  for (let e = -45; e < 40; e++) {
    for (const m of [1, 1.5, 1.23456789, 9.99999, -2.5, -7.0000001]) {
      const p = Math.fround(m * 10 ** e);
      t.equal(written(p), definition(p), `${p}`);
      t.equal(formatProbability(p), definition(p), `${p} as a string`);
    }
  }
});

t.test('csvField quotes like csv-stringify', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', 'é', '') }), (s) => {
      return `${csvField(s)}\n` === stringify([[s]]);
    }),
  );
  t.equal(csvField('a"b'), '"a""b"');
  t.equal(csvField(''), '');
});

const cell = fc.string({ unit: fc.constantFrom('x', '1', ',', '"', '\n', '\r', ' ', '.', '-') });

t.test(
  'csv() is the bytes csv-stringify writes for records(), with and without kept columns and a challenger',
  async (t) => {
    const labels = ['a', 'b,c', 'd"e'];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.array(cell, { minLength: 3, maxLength: 3 }),
            fc.array(fc.float(), { minLength: 3, maxLength: 3 }),
            fc.array(fc.float(), { minLength: 3, maxLength: 3 }),
          ),
          {
            maxLength: 20,
          },
        ),
        fc.constantFrom(undefined, ['c2', 'c0'], ['c1']),
        (rows, keep) => {
          const format = new OutputFormat(labels, keep);
          const header = format.header(['c0', 'c1', 'c2']);
          const batch: ScoredBatch = {
            index: 0,
            rows: rows.map(([values], i) => ({ line: i + 2, values })),
            inputs: [],
            outputs: [],
            probabilities: Float32Array.from(rows.flatMap(([, p]) => p)),
          };
          // A champion/challenger run's rows: the challenger's prediction and probabilities after the champion's.
          const challenger = Float32Array.from(rows.flatMap(([, , q]) => q));
          const challengerColumns = ['challenger_prediction', ...labels.map((l) => `challenger_${l}`)];
          const withChallenger = format
            .records(batch)
            .map((record, i) => [
              ...record,
              labels[argmaxRow(challenger, i, 3)] as string,
              ...Array.from(challenger.subarray(3 * i, 3 * i + 3), formatProbability),
            ]);
          return (
            format.headerCsv(['c0', 'c1', 'c2']) === stringify([header]) &&
            format.csv(batch).equals(Buffer.from(stringify(format.records(batch)))) &&
            format.headerCsv(['c0', 'c1', 'c2'], challengerColumns) ===
              stringify([[...header, ...challengerColumns]]) &&
            format.csv(batch, challenger).equals(Buffer.from(stringify(withChallenger)))
          );
        },
      ),
    );
    t.pass();
  },
);

const plainCell = fc.string({ unit: fc.constantFrom('x', '1', ' ', '.', '-', 'é', '😀', '\u00ff') });

t.test('csv() passes a row text through and owns every batch it returns', async (t) => {
  const format = new OutputFormat(['a', 'b']);
  format.header(['c0', 'c1']);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.array(plainCell, { minLength: 2, maxLength: 2 }), fc.float(), fc.float()), {
        maxLength: 30,
      }),
      (rows) => {
        const batch: ScoredBatch = {
          index: 0,
          rows: rows.map(([values], i) => ({
            line: i + 2,
            values,
            text: values.join(','),
          })),
          inputs: [],
          outputs: [],
          probabilities: Float32Array.from(rows.flatMap(([, p, q]) => [p, q])),
        };
        const expected = Buffer.from(stringify(format.records(batch)));
        const first = format.csv(batch);
        // A second batch, written through the same scratch, must not change the first.
        format.csv({ ...batch, rows: batch.rows.map((r) => ({ ...r, text: 'z'.repeat(9_000) })) });
        return first.equals(expected);
      },
    ),
  );
  // Rows far longer than the scratch has ever been: it grows mid-batch and keeps what it holds.
  const long = ['€'.repeat(50_000), 'y'.repeat(70_000)];
  const batch: ScoredBatch = {
    index: 0,
    rows: long.map((text, i) => ({
      line: i + 2,
      values: [text, ''],
      text: `${text},`,
    })),
    inputs: [],
    outputs: [],
    probabilities: Float32Array.from([0.25, 0.75, 0.625, 0.375]),
  };
  const expected = `${long[0]},,b,0.25,0.75\n${long[1]},,a,0.625,0.375\n`;
  t.ok(format.csv(batch).toString() === expected, 'long rows written whole');
});
