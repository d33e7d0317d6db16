/**
 * Feature spec → feature vector. The same code computes features for training (training/), for the batch
 * pipeline's Preprocessor and for the server's SageMaker/Vertex routes, so training/serving skew cannot creep in.
 */
import type { Cell } from '../io/table.js';
import { cellText } from './cell-text.js';
import { dayOfYearValue, decimalValue, parseDayOfYear, parseDecimal, type Parsed } from './parse.js';

/** How a feature's raw value is taken from its column. */
export type FeatureTransform =
  { type: 'number' } | { type: 'day_of_year'; fn: 'sin' | 'cos'; period: number };

export interface FeatureSpec {
  /** Name of the feature (one element of the model's input vector). */
  name: string;
  /** Input column the feature is computed from. */
  column: string;
  /**
   * How the raw value is taken from the column.
   * @default { "type": "number" }
   */
  transform?: FeatureTransform;
  /**
   * Standardization applied after the transform: (x − mean) / std.
   * @default none (the raw value goes to the model)
   */
  standardize?: { mean: number; std: number };
}

const NUMBER: FeatureTransform = { type: 'number' };

/** The raw (pre-standardization) value of one feature from one record. */
export function rawFeature(
  spec: FeatureSpec,
  record: Readonly<Record<string, string | undefined>>,
): Parsed<number> {
  return rawFeatureOf(spec, record[spec.column]);
}

function rawFeatureOf(spec: FeatureSpec, text: string | undefined): Parsed<number> {
  const { transform } = spec;
  if (transform === undefined || transform.type === 'number') return parseDecimal(text);
  const doy = parseDayOfYear(text);
  if (!doy.ok) return doy;
  return { ok: true, value: dayOfYearFeature(transform, doy.value) };
}

function dayOfYearFeature(transform: FeatureTransform & { type: 'day_of_year' }, doy: number): number {
  const angle = (2 * Math.PI * doy) / transform.period;
  return transform.fn === 'sin' ? Math.sin(angle) : Math.cos(angle);
}

export function standardize(spec: FeatureSpec, raw: number): number {
  return spec.standardize === undefined ? raw : (raw - spec.standardize.mean) / spec.standardize.std;
}

export type FeatureResult =
  { ok: true; raw: Float64Array; features: Float32Array } | { ok: false; reason: string };

/**
 * Computes the model input for one record: raw feature values (for data-quality and drift profiles) and the
 * standardized float32 vector the model takes. The first unusable column makes the whole record a reject.
 */
export function computeFeatures(
  specs: readonly FeatureSpec[],
  record: Readonly<Record<string, string | undefined>>,
): FeatureResult {
  const raw = new Float64Array(specs.length);
  const features = new Float32Array(specs.length);
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as FeatureSpec;
    const parsed = rawFeature(spec, record);
    if (!parsed.ok) return { ok: false, reason: `column ${JSON.stringify(spec.column)}: ${parsed.reason}` };
    raw[i] = parsed.value;
    // A value can parse yet overflow float32 once standardized (precipitation -1e308): the model would answer NaN.
    const feature = Math.fround(standardize(spec, parsed.value));
    if (!Number.isFinite(feature))
      return { ok: false, reason: `column ${JSON.stringify(spec.column)}: ${parsed.value} is out of range` };
    features[i] = feature;
  }
  return { ok: true, raw, features };
}

/**
 * Fills `raw` and `features` (one element per spec) from a row's values; answers the reason the row is
 * unusable, or undefined. `raw` gets NaN for each value that is missing or unparsable, the others all the same.
 */
export type ValuesFeaturizer = (
  values: readonly (Cell | undefined)[],
  raw: Float64Array,
  features: Float32Array,
  /** Where in `features` the row's values go (a batch tensor's row). @default 0 */
  offset?: number,
) => string | undefined;

/**
 * {@link computeFeatures} for rows given as values arrays in `columns`' order: the Preprocessor's per-row path.
 * Same values, same reasons (the first bad feature's), but no record object, and no object per feature unless a
 * value is refused or is not a plain decimal or `YYYY-MM-DD`; those go through {@link rawFeature}'s parsers.
 */
export function featuresFromValues(
  specs: readonly FeatureSpec[],
  columns: readonly string[],
): ValuesFeaturizer {
  const steps = specs.map((spec) => ({
    spec,
    index: columns.indexOf(spec.column),
    transform: spec.transform ?? NUMBER,
    mean: spec.standardize?.mean ?? 0,
    std: spec.standardize?.std ?? 1,
    label: `column ${JSON.stringify(spec.column)}`,
  }));
  return (values, raw, features, offset = 0) => {
    let reason: string | undefined;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as (typeof steps)[number];
      const cell = step.index < 0 ? undefined : values[step.index];
      const { transform } = step;
      // A typed source's number is the value; any other cell is read as the text a CSV of it would hold, made
      // only when needed (a number's text costs ~5 % of a Parquet run's CPU).
      let value: number;
      if (transform.type === 'number') value = typeof cell === 'number' ? cell : decimalValue(textOf(cell));
      else {
        const doy = dayOfYearValue(textOf(cell));
        value = Number.isNaN(doy) ? Number.NaN : dayOfYearFeature(transform, doy);
      }
      if (Number.isNaN(value)) {
        // Not the fast path's: refused, or taken only by the full parser (a time, spaces around a number).
        const parsed = rawFeatureOf(step.spec, textOf(cell));
        if (!parsed.ok) {
          raw[i] = Number.NaN;
          reason ??= `${step.label}: ${parsed.reason}`;
          continue;
        }
        value = parsed.value;
      }
      raw[i] = value;
      // A value can parse yet overflow float32 once standardized (precipitation -1e308): the model would answer NaN.
      const feature = Math.fround((value - step.mean) / step.std);
      if (!Number.isFinite(feature)) reason ??= `${step.label}: ${value} is out of range`;
      features[offset + i] = feature;
    }
    return reason;
  };
}

/** A cell as the text a CSV of it would hold (a string as it is). */
function textOf(cell: Cell | undefined): string | undefined {
  return typeof cell === 'string' || cell === undefined ? cell : cellText(cell);
}

/** Columns the feature spec reads, in first-use order, without repeats. */
export function requiredColumns(specs: readonly FeatureSpec[]): string[] {
  return [...new Set(specs.map((s) => s.column))];
}
