/**
 * The output format writes CSV itself (lib/core/output-format.ts): its probabilities must be the definition's
 * text, and its rows csv-stringify's bytes, whatever the cells hold. benchmarks/check-format.ts checks every
 * float32 probability; this checks samples and the edges.
 */
import t from 'tap';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { csvField, formatProbability, OutputFormat } from '../../lib/core/output-format.js';
import type { ScoredBatch } from '../../lib/types.js';

const definition = (p: number): string => String(Number(p.toPrecision(9)));

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
  for (const p of edges) t.equal(formatProbability(p), definition(p), `${p}`);
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

t.test('csv() is the bytes csv-stringify writes for records(), with and without kept columns', async (t) => {
  const labels = ['a', 'b,c', 'd"e'];
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.array(cell, { minLength: 3, maxLength: 3 }),
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
          rows: rows.map(([values], i) => ({ line: i + 2, values, features: new Float32Array(0) })),
          tensor: new Float32Array(0),
          width: 0,
          probabilities: Float32Array.from(rows.flatMap(([, p]) => p)),
        };
        return (
          format.headerCsv(['c0', 'c1', 'c2']) === stringify([header]) &&
          format.csv(batch) === stringify(format.records(batch))
        );
      },
    ),
  );
  t.pass();
});
