/**
 * Comparing two versions of a classifier on the same labelled rows: both classification reports, the deltas
 * of accuracy, macro-F1, log loss and each class's F1, and for each delta a paired bootstrap interval — the rows
 * are resampled with replacement, the same resample scoring both models, so the interval shows how much of the
 * delta the choice of rows alone could produce. A delta whose interval excludes 0 is "beyond noise". Seeded, so
 * a comparison is reproducible to the last digit. `comparisonMarkdown` renders the result; the JSON form
 * (`ModelComparison`) is what other tools (the HTML report) read.
 */
import { classificationReport, rowLogLoss, type ClassificationReport } from './metrics.js';
import { integerOption, numberOption, refuseUnknownKeys } from './options.js';
import { mulberry32 } from './prng.js';
import { quantile } from './profile.js';

/** One model's predictions on a labelled set, rows in the same order for both models. */
export interface LabelledPredictions {
  /** True label index per row. */
  truth: ArrayLike<number>;
  /** Predicted label index per row. */
  predicted: ArrayLike<number>;
  /** rows × labels probabilities, row-major. */
  probabilities: ArrayLike<number>;
}

/** A metric's change from champion to challenger, with its bootstrap interval. */
export interface MetricDelta {
  /** `accuracy`, `macro_f1`, `log_loss`, or `f1:<label>`. */
  metric: string;
  champion: number;
  challenger: number;
  /** challenger − champion. */
  delta: number;
  /** Percentile interval of the delta over the bootstrap resamples. */
  interval: [number, number];
  /** The interval excludes 0: the delta is larger than what resampling the rows produces. */
  beyond_noise: boolean;
  /** False for log loss, where a negative delta is the improvement. */
  higher_is_better: boolean;
}

/** Champion/challenger disagreement on a set, per label the champion predicted. */
export interface Disagreement {
  rows: number;
  disagreements: number;
  rate: number;
  per_class: { label: string; rows: number; disagreements: number; rate: number }[];
  /** Rows by champion prediction (rows) and challenger prediction (columns). */
  matrix: number[][];
}

/** Both models on one labelled set. */
export interface SetComparison {
  name: string;
  rows: number;
  champion: ClassificationReport;
  challenger: ClassificationReport;
  deltas: MetricDelta[];
  disagreement: Disagreement;
}

/** The comparison of two versions of a model over one or more labelled sets: the report's JSON form. */
export interface ModelComparison {
  format: 1;
  model: string;
  champion: { version: number | null };
  challenger: { version: number | null };
  labels: string[];
  bootstrap: BootstrapOptions;
  sets: SetComparison[];
}

export interface BootstrapOptions {
  /**
   * Resamples of the rows.
   * @default 1000
   */
  resamples: number;
  /**
   * Coverage of the percentile interval.
   * @default 0.95
   */
  confidence: number;
  /**
   * Seed of the resampling.
   * @default 1
   */
  seed: number;
}

export const DEFAULT_BOOTSTRAP: Readonly<BootstrapOptions> = Object.freeze({
  resamples: 1000,
  confidence: 0.95,
  seed: 1,
});

/** Bootstrap options filled with the defaults and checked (BI_ERR_INVALID_OPTION names a bad one). */
function bootstrapOptions(options: Partial<BootstrapOptions>): BootstrapOptions {
  refuseUnknownKeys('bootstrap', options, ['resamples', 'confidence', 'seed']);
  return {
    resamples: integerOption('resamples', options.resamples, DEFAULT_BOOTSTRAP.resamples, 1, 1_000_000),
    confidence: numberOption('confidence', options.confidence, DEFAULT_BOOTSTRAP.confidence, 0, 1),
    seed: integerOption('seed', options.seed, DEFAULT_BOOTSTRAP.seed, 0, 2 ** 32 - 1),
  };
}

/** The figures compared, read off a report: higher is better except for log loss. */
function figures(labels: readonly string[], r: ClassificationReport, logLoss: number): [string, number][] {
  return [
    ['accuracy', r.accuracy],
    ['macro_f1', r.macro_f1],
    ['log_loss', logLoss],
    ...labels.map((l, c): [string, number] => [`f1:${l}`, r.per_class[c]?.f1 ?? 0]),
  ];
}

/** Disagreement between two prediction lists over the same rows. */
export function disagreementOf(
  labels: readonly string[],
  champion: ArrayLike<number>,
  challenger: ArrayLike<number>,
): Disagreement {
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let i = 0; i < champion.length; i++) {
    const row = matrix[champion[i] as number] as number[];
    const c = challenger[i] as number;
    row[c] = (row[c] ?? 0) + 1;
  }
  return disagreementFromMatrix(labels, matrix);
}

/** Disagreement from a champion × challenger count matrix (what a champion/challenger run accumulates). */
export function disagreementFromMatrix(labels: readonly string[], matrix: number[][]): Disagreement {
  const per_class = labels.map((label, c) => {
    const row = matrix[c] ?? [];
    const rows = row.reduce((a, b) => a + b, 0);
    const disagreements = rows - (row[c] ?? 0);
    return { label, rows, disagreements, rate: rows === 0 ? 0 : disagreements / rows };
  });
  const rows = per_class.reduce((a, p) => a + p.rows, 0);
  const disagreements = per_class.reduce((a, p) => a + p.disagreements, 0);
  return { rows, disagreements, rate: rows === 0 ? 0 : disagreements / rows, per_class, matrix };
}

function meanAt(values: Float64Array, rows: Int32Array): number {
  let sum = 0;
  for (const i of rows) sum += values[i] as number;
  return rows.length === 0 ? 0 : sum / rows.length;
}

function perRowLogLoss(p: LabelledPredictions, k: number): Float64Array {
  return Float64Array.from({ length: p.truth.length }, (_, i) =>
    rowLogLoss(p.probabilities[i * k + (p.truth[i] as number)] as number),
  );
}

function pick(values: ArrayLike<number>, rows: Int32Array): Int32Array {
  return Int32Array.from(rows, (i) => values[i] as number);
}

/**
 * Compares two models' predictions on the same rows of a labelled set. Throws when the two disagree on the
 * truth or the number of rows: they would not be the same set.
 */
export function compareOnSet(
  name: string,
  labels: readonly string[],
  champion: LabelledPredictions,
  challenger: LabelledPredictions,
  options: Partial<BootstrapOptions> = {},
): SetComparison {
  const { resamples, confidence, seed } = bootstrapOptions(options);
  const n = champion.truth.length;
  const k = labels.length;
  if (challenger.truth.length !== n || Array.from(champion.truth).some((t, i) => t !== challenger.truth[i]))
    throw new Error(`compareOnSet ${name}: the two prediction sets are not over the same labelled rows`);
  const losses = [perRowLogLoss(champion, k), perRowLogLoss(challenger, k)] as const;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const reportOn = (p: LabelledPredictions, rows: Int32Array) =>
    classificationReport(labels, pick(p.truth, rows), pick(p.predicted, rows));
  const point = [
    figures(labels, reportOn(champion, all), meanAt(losses[0], all)),
    figures(labels, reportOn(challenger, all), meanAt(losses[1], all)),
  ] as const;

  const random = mulberry32(seed);
  const deltas = point[0].map(() => new Float64Array(resamples));
  const rows = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) rows[i] = Math.floor(random() * n);
    const a = figures(labels, reportOn(champion, rows), meanAt(losses[0], rows));
    const c = figures(labels, reportOn(challenger, rows), meanAt(losses[1], rows));
    a.forEach(([, value], m) => ((deltas[m] as Float64Array)[b] = (c[m] as [string, number])[1] - value));
  }
  const tail = (1 - confidence) / 2;
  return {
    name,
    rows: n,
    champion: classificationReport(labels, champion.truth, champion.predicted, champion.probabilities),
    challenger: classificationReport(
      labels,
      challenger.truth,
      challenger.predicted,
      challenger.probabilities,
    ),
    deltas: point[0].map(([metric, value], m) => {
      const other = (point[1][m] as [string, number])[1];
      const sorted = (deltas[m] as Float64Array).sort();
      const interval: [number, number] = [quantile(sorted, tail), quantile(sorted, 1 - tail)];
      return {
        metric,
        champion: value,
        challenger: other,
        delta: other - value,
        interval,
        beyond_noise: interval[0] > 0 || interval[1] < 0,
        higher_is_better: metric !== 'log_loss',
      };
    }),
    disagreement: disagreementOf(labels, champion.predicted, challenger.predicted),
  };
}

/** Builds the comparison over several sets, each compared by `compareOnSet` with the same bootstrap options. */
export function compareModels(
  model: string,
  versions: { champion: number | null; challenger: number | null },
  labels: readonly string[],
  sets: readonly { name: string; champion: LabelledPredictions; challenger: LabelledPredictions }[],
  options: Partial<BootstrapOptions> = {},
): ModelComparison {
  const bootstrap = bootstrapOptions(options);
  return {
    format: 1,
    model,
    champion: { version: versions.champion },
    challenger: { version: versions.challenger },
    labels: [...labels],
    bootstrap,
    sets: sets.map((s) => compareOnSet(s.name, labels, s.champion, s.challenger, bootstrap)),
  };
}

/** A metric as comparisons write it (here and in the HTML report): 0.8493. */
export function fixed4(x: number): string {
  return x.toFixed(4);
}

/** A change with its sign: +0.0517, −0.0137 (a real minus sign). */
export function signed4(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
}

const percent = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** How reports name a metric: accuracy, macro-F1, log loss, F1 fog. */
export function metricName(metric: string): string {
  if (metric === 'macro_f1') return 'macro-F1';
  if (metric === 'log_loss') return 'log loss';
  return metric.startsWith('f1:') ? `F1 ${metric.slice(3)}` : metric;
}

/** The delta moved in the metric's good direction (log loss: down). */
export function isImprovement(d: MetricDelta): boolean {
  return d.delta > 0 === d.higher_is_better;
}

function verdict(d: MetricDelta): string {
  if (!d.beyond_noise) return 'no';
  return isImprovement(d) ? 'yes, better' : 'yes, worse';
}

function table(header: string[], rows: string[][], align: string[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function confusionTable(labels: readonly string[], confusion: number[][]): string[] {
  return table(
    ['true ↓ / predicted →', ...labels],
    confusion.map((row, i) => [labels[i] ?? '', ...row.map(String)]),
    ['---', ...labels.map(() => '---:')],
  );
}

function setMarkdown(c: ModelComparison, s: SetComparison, v1: string, v2: string): string[] {
  const level = Math.round(100 * c.bootstrap.confidence);
  const d = s.disagreement;
  return [
    `### ${s.name} (${s.rows} rows)`,
    '',
    ...table(
      ['metric', v1, v2, 'Δ', `${level} % interval of Δ`, 'beyond noise'],
      s.deltas.map((m) => [
        metricName(m.metric),
        fixed4(m.champion),
        fixed4(m.challenger),
        signed4(m.delta),
        `[${signed4(m.interval[0])}, ${signed4(m.interval[1])}]`,
        verdict(m),
      ]),
      ['---', '---:', '---:', '---:', '---', '---'],
    ),
    '',
    ...table(
      ['class', 'support', `${v1} precision`, `${v1} recall`, `${v2} precision`, `${v2} recall`],
      c.labels.map((label, i) => {
        const a = s.champion.per_class[i];
        const b = s.challenger.per_class[i];
        return [
          label,
          String(a?.support ?? 0),
          fixed4(a?.precision ?? 0),
          fixed4(a?.recall ?? 0),
          fixed4(b?.precision ?? 0),
          fixed4(b?.recall ?? 0),
        ];
      }),
      ['---', '---:', '---:', '---:', '---:', '---:'],
    ),
    '',
    `Confusion of ${v1}:`,
    '',
    ...confusionTable(c.labels, s.champion.confusion),
    '',
    `Confusion of ${v2}:`,
    '',
    ...confusionTable(c.labels, s.challenger.confusion),
    '',
    `${v1} and ${v2} disagree on ${d.disagreements} of ${d.rows} rows (${percent(d.rate)}); by ${v1}'s prediction: ` +
      d.per_class
        .filter((p) => p.rows > 0)
        .map((p) => `${p.label} ${p.disagreements}/${p.rows} (${percent(p.rate)})`)
        .join(', ') +
      '.',
    '',
  ];
}

/** How comparisons name the two versions: `v1`, or `champion` when its version is not known. */
export function versionNames(c: ModelComparison): { champion: string; challenger: string } {
  return {
    champion: c.champion.version === null ? 'champion' : `v${c.champion.version}`,
    challenger: c.challenger.version === null ? 'challenger' : `v${c.challenger.version}`,
  };
}

/** The comparison as a Markdown section: a table of deltas per set, per-class figures and both confusions. */
export function comparisonMarkdown(c: ModelComparison): string {
  const { champion: v1, challenger: v2 } = versionNames(c);
  const { resamples, confidence, seed } = c.bootstrap;
  return [
    `## ${c.model}: ${v1} (champion) against ${v2} (challenger)`,
    '',
    `Δ is ${v2} − ${v1}. Intervals: paired bootstrap over rows, ${resamples} resamples, ${Math.round(100 * confidence)} % ` +
      `percentile, seed ${seed}; a Δ is beyond noise when its interval excludes 0. Macro-F1 averages the ` +
      'classes present in the truth or the predictions.',
    '',
    ...c.sets.flatMap((s) => setMarkdown(c, s, v1, v2)),
  ].join('\n');
}
