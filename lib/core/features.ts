/**
 * Feature spec → feature vector. The same code computes features for training (training/), for the batch
 * pipeline's Preprocessor and for the server's SageMaker/Vertex routes, so training/serving skew cannot creep in.
 */
import { parseDayOfYear, parseDecimal, type Parsed } from './parse.js';

/** How a feature's raw value is taken from its column. */
export type FeatureTransform =
  { type: 'number' } | { type: 'day_of_year'; fn: 'sin' | 'cos'; period: number };

export interface FeatureSpec {
  /** Name of the feature (one element of the model's input vector). */
  name: string;
  /** Input column the feature is computed from. */
  column: string;
  transform: FeatureTransform;
  /** Standardization applied after the transform: (x − mean) / std. */
  standardize: { mean: number; std: number };
}

/** The raw (pre-standardization) value of one feature from one record. */
export function rawFeature(
  spec: FeatureSpec,
  record: Readonly<Record<string, string | undefined>>,
): Parsed<number> {
  const text = record[spec.column];
  const { transform } = spec;
  if (transform.type === 'number') return parseDecimal(text);
  const doy = parseDayOfYear(text);
  if (!doy.ok) return doy;
  const angle = (2 * Math.PI * doy.value) / transform.period;
  return { ok: true, value: transform.fn === 'sin' ? Math.sin(angle) : Math.cos(angle) };
}

export function standardize(spec: FeatureSpec, raw: number): number {
  return (raw - spec.standardize.mean) / spec.standardize.std;
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

/** Columns the feature spec reads, in first-use order, without repeats. */
export function requiredColumns(specs: readonly FeatureSpec[]): string[] {
  return [...new Set(specs.map((s) => s.column))];
}
