/**
 * The weather data set for the bundled `weather` model: parsing, the train/eval split, the feature spec with
 * standardization fitted on the training rows, and the feature matrices the model is trained and scored on.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { computeFeatures, type FeatureSpec, type FeatureTransform } from '../lib/core/features.js';
import { profileFeature, type FeatureProfile } from '../lib/core/profile.js';

export const WEATHER_LABELS = ['drizzle', 'fog', 'rain', 'snow', 'sun'] as const;
export const WEATHER_TARGET = 'weather';
export const WEATHER_DATA = 'vega-datasets/data/weather.csv';
export const TRAIN_SELECTION = 'Seattle, date < 2015-01-01';

/** One record of weather.csv: `location,date,precipitation,temp_max,temp_min,wind,weather`. */
export type WeatherRow = Record<string, string>;
type Row = WeatherRow;

const DOY_PERIOD = 365.25;
const FEATURES: readonly { name: string; column: string; transform: FeatureTransform }[] = [
  { name: 'precipitation', column: 'precipitation', transform: { type: 'number' } },
  { name: 'temp_max', column: 'temp_max', transform: { type: 'number' } },
  { name: 'temp_min', column: 'temp_min', transform: { type: 'number' } },
  { name: 'wind', column: 'wind', transform: { type: 'number' } },
  { name: 'doy_sin', column: 'date', transform: { type: 'day_of_year', fn: 'sin', period: DOY_PERIOD } },
  { name: 'doy_cos', column: 'date', transform: { type: 'day_of_year', fn: 'cos', period: DOY_PERIOD } },
];

/** Rows of one split as the model sees them: row-major feature matrix plus label indices. */
export interface LabelledSet {
  rows: number;
  /** rows × features standardized float32 values. */
  features: Float32Array;
  /** rows × features raw (pre-standardization) values. */
  raw: Float64Array;
  labels: Int32Array;
}

export interface WeatherData {
  specs: FeatureSpec[];
  /** Profiles of the raw training values; their mean and std are the standardization. */
  profiles: FeatureProfile[];
  train: LabelledSet;
  eval: { seattle_2015: LabelledSet; new_york_2015: LabelledSet };
}

/** The package's `exports` map hides data/, so the file is found from the package's main entry instead. */
export function weatherCsvPath(): string {
  const main = createRequire(import.meta.url).resolve('vega-datasets');
  return join(dirname(main), '..', 'data', 'weather.csv');
}

/** The rows' features under `specs` (standardized and raw) and their label indices. */
export function labelledSet(specs: readonly FeatureSpec[], rows: readonly Row[]): LabelledSet {
  const width = specs.length;
  const set: LabelledSet = {
    rows: rows.length,
    features: new Float32Array(rows.length * width),
    raw: new Float64Array(rows.length * width),
    labels: new Int32Array(rows.length),
  };
  rows.forEach((row, i) => {
    const computed = computeFeatures(specs, row);
    // The bundled data is clean: a reject here means the spec or the file changed, not noisy input.
    if (!computed.ok) throw new Error(`weather.csv ${row.location} ${row.date}: ${computed.reason}`);
    const label = (WEATHER_LABELS as readonly string[]).indexOf(row[WEATHER_TARGET] ?? '');
    if (label < 0)
      throw new Error(`weather.csv ${row.location} ${row.date}: unknown label ${row[WEATHER_TARGET]}`);
    set.features.set(computed.features, i * width);
    set.raw.set(computed.raw, i * width);
    set.labels[i] = label;
  });
  return set;
}

/** Every record of weather.csv, in file order (by location, then date). */
export function readWeatherRows(file = weatherCsvPath()): WeatherRow[] {
  return parse<Row>(readFileSync(file, 'utf8'), { columns: true });
}

/** Rows dated before 2015: what models may train on. */
export function before2015(r: WeatherRow): boolean {
  return (r.date ?? '') < '2015-01-01';
}

/** Rows dated in 2015: the held-out evaluation year. */
export function in2015(r: WeatherRow): boolean {
  return (r.date ?? '') >= '2015-01-01' && (r.date ?? '') < '2016-01-01';
}

/** The raw values of feature `j` across a set. */
export function column(set: LabelledSet, j: number, width: number): Float64Array {
  return Float64Array.from({ length: set.rows }, (_, i) => set.raw[i * width + j] as number);
}

export function loadWeatherData(file = weatherCsvPath()): WeatherData {
  const rows = readWeatherRows(file);
  const train = rows.filter((r) => r.location === 'Seattle' && before2015(r));

  // Raw values do not depend on standardization, so an identity spec yields them for fitting mean and std.
  const identity = FEATURES.map((f) => ({ ...f, standardize: { mean: 0, std: 1 } }));
  const rawTrain = labelledSet(identity, train);
  const profiles = FEATURES.map((f, j) => profileFeature(f.name, column(rawTrain, j, FEATURES.length), 0));
  const specs = FEATURES.map((f, j) => {
    const { mean, std } = profiles[j] as FeatureProfile;
    return { ...f, standardize: { mean, std } };
  });

  return {
    specs,
    profiles,
    train: labelledSet(specs, train),
    eval: {
      seattle_2015: labelledSet(
        specs,
        rows.filter((r) => r.location === 'Seattle' && in2015(r)),
      ),
      new_york_2015: labelledSet(
        specs,
        rows.filter((r) => r.location === 'New York' && in2015(r)),
      ),
    },
  };
}
