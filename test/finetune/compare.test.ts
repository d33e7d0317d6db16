/**
 * lib/core/compare.ts: the champion/challenger comparison and its paired bootstrap intervals, and the macro-F1
 * it compares (over the classes present in the truth or the predictions).
 */
import t from 'tap';
import {
  compareModels,
  compareOnSet,
  comparisonMarkdown,
  disagreementOf,
  type LabelledPredictions,
} from '../../lib/core/compare.js';
import { classificationReport } from '../../lib/core/metrics.js';
import { mulberry32 } from '../../lib/core/prng.js';

const labels = ['a', 'b', 'c'];

/** `rows` rows, truth uniform over the labels; a model right with probability `skill`, confident in its pick. */
function model(truth: number[], skill: number, seed: number): LabelledPredictions {
  const random = mulberry32(seed);
  const predicted = truth.map((t) => (random() < skill ? t : (t + 1 + Math.floor(random() * 2)) % 3));
  const probabilities = predicted.flatMap((p) => labels.map((_, c) => (c === p ? 0.8 : 0.1)));
  return { truth, predicted, probabilities };
}

const random = mulberry32(7);
const truth = Array.from({ length: 400 }, () => Math.floor(random() * 3));

t.test('macro-F1 averages over the classes in the truth or the predictions, as scikit-learn does', (t) => {
  // c is never true but predicted once: it counts, with F1 0.
  const report = classificationReport(labels, [0, 0, 1, 1], [0, 0, 1, 2]);
  const f1b = (2 * 1 * 0.5) / 1.5;
  t.ok(Math.abs(report.macro_f1 - (1 + f1b + 0) / 3) < 1e-12, `macro-F1 ${report.macro_f1}`);
  // A class in neither is left out, not scored 0.
  t.equal(classificationReport(labels, [0, 1], [0, 1]).macro_f1, 1);
  t.end();
});

t.test('a model against itself: every delta 0, within noise', (t) => {
  const same = model(truth, 0.7, 1);
  const set = compareOnSet('same', labels, same, same);
  t.equal(set.rows, 400);
  for (const d of set.deltas) {
    t.equal(d.delta, 0, d.metric);
    t.same(d.interval, [0, 0], d.metric);
    t.equal(d.beyond_noise, false, d.metric);
  }
  t.equal(set.disagreement.rate, 0);
  t.end();
});

t.test('a clearly better challenger is beyond noise; a tiny change is not', (t) => {
  const champion = model(truth, 0.6, 1);
  const better = compareOnSet('better', labels, champion, model(truth, 0.9, 2));
  const accuracy = better.deltas.find((d) => d.metric === 'accuracy');
  t.ok(accuracy !== undefined && accuracy.delta > 0.2 && accuracy.beyond_noise, JSON.stringify(accuracy));
  t.ok(
    (accuracy?.interval[0] ?? 0) < (accuracy?.delta ?? 0) &&
      (accuracy?.delta ?? 0) < (accuracy?.interval[1] ?? 0),
  );
  const logLoss = better.deltas.find((d) => d.metric === 'log_loss');
  t.ok(logLoss !== undefined && logLoss.delta < 0 && !logLoss.higher_is_better, 'log loss: lower is better');

  // The challenger differs from the champion on one row only.
  const predicted = Array.from(champion.predicted);
  predicted[0] = ((predicted[0] as number) + 1) % 3;
  const tiny = compareOnSet('tiny', labels, champion, { ...champion, predicted });
  t.equal(tiny.deltas.find((d) => d.metric === 'accuracy')?.beyond_noise, false);
  t.equal(tiny.disagreement.disagreements, 1);
  t.end();
});

t.test('the bootstrap is seeded: same seed, same intervals; another seed, others', (t) => {
  const a = model(truth, 0.6, 1);
  const b = model(truth, 0.65, 2);
  const once = compareOnSet('s', labels, a, b, { resamples: 200 });
  t.same(compareOnSet('s', labels, a, b, { resamples: 200 }), once);
  t.not(
    JSON.stringify(compareOnSet('s', labels, a, b, { resamples: 200, seed: 2 }).deltas),
    JSON.stringify(once.deltas),
  );
  t.end();
});

t.test('sets over different rows are refused', (t) => {
  const a = model(truth, 0.6, 1);
  t.throws(
    () => compareOnSet('x', labels, a, { ...a, truth: truth.slice(1) }),
    /not over the same labelled rows/,
  );
  t.end();
});

t.test('disagreement is counted per label the champion predicted', (t) => {
  const d = disagreementOf(labels, [0, 0, 1, 2], [0, 1, 1, 1]);
  t.same(
    d.per_class.map((p) => [p.label, p.rows, p.disagreements]),
    [
      ['a', 2, 1],
      ['b', 1, 0],
      ['c', 1, 1],
    ],
  );
  t.equal(d.rate, 0.5);
  t.same(d.matrix, [
    [1, 1, 0],
    [0, 1, 0],
    [0, 1, 0],
  ]);
  t.end();
});

t.test('the Markdown report has a table per set with deltas, intervals and both confusions', (t) => {
  const comparison = compareModels(
    'toy',
    { champion: 1, challenger: 2 },
    labels,
    [{ name: 'holdout', champion: model(truth, 0.6, 1), challenger: model(truth, 0.9, 2) }],
    { resamples: 100 },
  );
  const markdown = comparisonMarkdown(comparison);
  t.match(markdown, /^## toy: v1 \(champion\) against v2 \(challenger\)/);
  t.match(markdown, /### holdout \(400 rows\)/);
  t.match(
    markdown,
    /\| accuracy \| 0\.\d{4} \| 0\.\d{4} \| \+0\.\d{4} \| \[\+0\.\d{4}, \+0\.\d{4}\] \| yes, better \|/,
  );
  t.match(markdown, /\| macro-F1 \|/);
  t.match(markdown, /Confusion of v1:[\s\S]*Confusion of v2:/);
  t.match(markdown, /v1 and v2 disagree on \d+ of 400 rows/);
  const json = JSON.parse(JSON.stringify(comparison)) as typeof comparison;
  t.equal(json.sets[0]?.deltas.length, 3 + labels.length, 'JSON form');
  t.end();
});
