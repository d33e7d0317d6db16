/**
 * Instances → feature rows, for the single-model routes (SageMaker `/invocations`, Vertex AI predict). An
 * instance is either a raw record — `{"date": "2015-06-01", "wind": 3.1, …}`, turned into the model's input by
 * the feature spec in model.json, with the same code as the batch pipeline's Preprocessor, so users need no
 * client-side preprocessing — or a feature array: one row of the model's input tensor, used as it is.
 */
import { BatchInferError, ErrorCodes, show } from '../lib/errors.js';
import { computeFeatures, requiredColumns } from '../lib/core/features.js';
import type { ModelContract } from '../lib/core/model-contract.js';

/** A raw record as computeFeatures takes it: column → cell text (undefined = missing). */
export type RawRecord = Record<string, string | undefined>;

/** Refuses one instance; `where` names it for the client: `instances[3]`, `Row 3 (line 4)`. */
export function badInstance(where: string, reason: string): never {
  throw new BatchInferError(ErrorCodes.BAD_RECORD, `${where}: ${reason}`);
}

/** The model input of a raw record, or a 400-coded error naming the instance and the column at fault. */
export function recordFeatures(
  contract: ModelContract,
  record: Readonly<RawRecord>,
  where: string,
): Float32Array {
  const result = computeFeatures(contract.features, record);
  if (!result.ok) badInstance(where, result.reason);
  return result.features;
}

/** JSON values → cell text: numbers as JavaScript prints them (which the strict decimal parser accepts). */
function recordOf(contract: ModelContract, instance: Record<string, unknown>, where: string): RawRecord {
  const record: RawRecord = {};
  for (const column of requiredColumns(contract.features)) {
    const value = Object.hasOwn(instance, column) ? instance[column] : undefined;
    if (typeof value === 'string') record[column] = value;
    else if (typeof value === 'number') record[column] = String(value);
    else if (value !== undefined && value !== null)
      badInstance(
        where,
        `column ${JSON.stringify(column)}: expected a number or a string, got ${show(value)}`,
      );
  }
  return record;
}

function featureArray(contract: ModelContract, instance: readonly unknown[], where: string): Float32Array {
  const width = contract.features.length;
  if (instance.length !== width) {
    badInstance(
      where,
      `a feature array needs ${width} values (${contract.features.map((f) => f.name).join(', ')}), got ${instance.length}`,
    );
  }
  const features = new Float32Array(width);
  instance.forEach((v, i) => {
    if (typeof v !== 'number') badInstance(where, `feature ${i} is ${show(v)}, not a number`);
    // JSON has no Infinity, but 1e999 parses to it, and 1e39 is one in float32.
    if (!Number.isFinite(Math.fround(v)))
      badInstance(where, `feature ${i} is ${show(v)}, beyond the float32 range`);
    features[i] = v;
  });
  return features;
}

/** The model input of one JSON instance: a raw record (object) or a feature array. */
export function instanceFeatures(contract: ModelContract, instance: unknown, where: string): Float32Array {
  if (Array.isArray(instance)) return featureArray(contract, instance, where);
  if (typeof instance === 'object' && instance !== null)
    return recordFeatures(contract, recordOf(contract, instance as Record<string, unknown>, where), where);
  return badInstance(
    where,
    `expected a record (an object of column values) or an array of ${contract.features.length} feature values, got ${show(instance)}`,
  );
}

/** Feature rows of a JSON `instances` list; a bad instance is named by its index, `instances[3]`. */
export function instanceRows(contract: ModelContract, instances: readonly unknown[]): Float32Array[] {
  return instances.map((instance, i) => instanceFeatures(contract, instance, `instances[${i}]`));
}
