import t from 'tap';
import { argmaxRow, classificationReport } from '../../lib/core/metrics.js';

const labels = ['a', 'b', 'c'];
// Confusion by hand: a → a, b; b → b, b; c → c, a.
const truth = [0, 0, 1, 1, 2, 2];
const predicted = [0, 1, 1, 1, 2, 0];
// Probability of the true class per row: 0.5, 0.25, 0.5, 0.8, 1 (clipped to 1 − 1e-15), 0.1.
const probabilities = [
  [0.5, 0.4, 0.1],
  [0.25, 0.7, 0.05],
  [0.2, 0.5, 0.3],
  [0.1, 0.8, 0.1],
  [0, 0, 1],
  [0.6, 0.3, 0.1],
].flat();

t.test('classificationReport on a hand-computed example', (t) => {
  const report = classificationReport(labels, truth, predicted, probabilities);
  t.equal(report.rows, 6);
  t.same(report.confusion, [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
  t.equal(report.accuracy, 4 / 6);
  const expected = [
    { label: 'a', precision: 1 / 2, recall: 1 / 2, f1: 1 / 2, support: 2 },
    { label: 'b', precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
    { label: 'c', precision: 1, recall: 1 / 2, f1: 2 / 3, support: 2 },
  ];
  report.per_class.forEach((m, i) => {
    const e = expected[i]!;
    t.equal(m.label, e.label);
    t.equal(m.support, e.support, `${e.label} support`);
    for (const key of ['precision', 'recall', 'f1'] as const) {
      t.ok(Math.abs(m[key] - e[key]) < 1e-12, `${e.label} ${key} ${m[key]} ≈ ${e[key]}`);
    }
  });
  t.ok(Math.abs(report.macro_f1 - (1 / 2 + 0.8 + 2 / 3) / 3) < 1e-12, `macro-F1 ${report.macro_f1}`);
  const logLoss =
    -(Math.log(0.5) + Math.log(0.25) + Math.log(0.5) + Math.log(0.8) + Math.log(1 - 1e-15) + Math.log(0.1)) /
    6;
  t.ok(Math.abs((report.log_loss ?? NaN) - logLoss) < 1e-12, `log loss ${report.log_loss} ≈ ${logLoss}`);
  t.end();
});

t.test('log loss is null without probabilities and clips a zero probability', (t) => {
  t.equal(classificationReport(labels, truth, predicted).log_loss, null);
  const report = classificationReport(labels, [0], [1], [0, 1, 0]);
  t.ok(Math.abs((report.log_loss ?? NaN) + Math.log(1e-15)) < 1e-9, `log loss ${report.log_loss}`);
  t.end();
});

t.test('macro-F1 averages only the classes present in the truth', (t) => {
  const report = classificationReport(labels, [0, 0, 1], [0, 0, 1]);
  t.equal(report.per_class[2]?.support, 0);
  t.equal(report.macro_f1, 1);
  t.end();
});

t.test('an empty input gives zeros, not NaN', (t) => {
  const report = classificationReport(labels, [], [], []);
  t.same(
    { accuracy: report.accuracy, macro_f1: report.macro_f1, log_loss: report.log_loss },
    { accuracy: 0, macro_f1: 0, log_loss: 0 },
  );
  t.end();
});

t.test('argmaxRow picks the first largest value of a row', (t) => {
  const values = [0.1, 0.7, 0.2, 0.4, 0.2, 0.4];
  t.equal(argmaxRow(values, 0, 3), 1);
  t.equal(argmaxRow(values, 1, 3), 0);
  t.end();
});
