/** Shared by the SageMaker and Vertex AI tests: sample records and the answers /v2 gives for them. */
import { computeFeatures } from '../../lib/core/features.js';
import type { ModelContract } from '../../lib/core/model-contract.js';

/** The first rows of data/weather.csv, as CSV lines (with the header) and as records. */
export const CSV_LINES = [
  'location,date,precipitation,temp_max,temp_min,wind,weather',
  'Seattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle',
  'Seattle,2012-01-02,10.9,10.6,2.8,4.5,rain',
  'Seattle,2012-07-08,0.0,26.7,13.3,2.3,sun',
];

export const RECORDS: Record<string, string>[] = CSV_LINES.slice(1).map((line) => {
  const values = line.split(',');
  return Object.fromEntries((CSV_LINES[0] ?? '').split(',').map((c, i) => [c, values[i] ?? '']));
});

/** The same records in model.json's column order (precipitation, temp_max, temp_min, wind, date), no header. */
export const HEADERLESS_CSV = RECORDS.map((r) =>
  [r.precipitation, r.temp_max, r.temp_min, r.wind, r.date].join(','),
).join('\n');

export interface Expected {
  contract: ModelContract;
  features: number[][];
  labels: string[];
  /** Float32 probabilities per row, in label order. */
  probabilities: number[][];
}

/** What the model answers for RECORDS over /v2, with the features computed on the client side. */
export async function expectedFor(url: string): Promise<Expected> {
  const meta = (await (await fetch(`${url}/v2/models/weather`)).json()) as {
    properties: { contract: string };
  };
  const contract = JSON.parse(meta.properties.contract) as ModelContract;
  const features = RECORDS.map((r) => {
    const result = computeFeatures(contract.features, r);
    if (!result.ok) throw new Error(result.reason);
    return Array.from(result.features);
  });
  const res = await fetch(`${url}/v2/models/weather/infer`, {
    method: 'POST',
    body: JSON.stringify({
      inputs: [{ name: 'features', datatype: 'FP32', shape: [features.length, 6], data: features }],
    }),
  });
  // FP32 values, whatever digits the JSON wrote them with.
  const data = (((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]?.data ?? []).map(
    Math.fround,
  );
  const k = contract.labels.length;
  const probabilities = features.map((_, i) => data.slice(i * k, (i + 1) * k));
  const labels = probabilities.map((p) => contract.labels[p.indexOf(Math.max(...p))] ?? '');
  return { contract, features, labels, probabilities };
}

/** Server scores are rounded to 9 significant digits, which read back to the very same float32. */
export const asFloat32 = (scores: number[]) => scores.map((p) => Math.fround(p));
