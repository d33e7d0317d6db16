/**
 * Instances → model inputs, for the single-model routes (SageMaker `/invocations`, Vertex AI predict). An
 * instance is either a raw record — `{"date": "2015-06-01", "wind": 3.1, …}` or `{"sex": "male", "age": 22}`,
 * read by the model's input plan (lib/core/input-plan.ts), the same code as the batch pipeline's Preprocessor,
 * so users need no client-side preprocessing — or an array: one row of the model's only input, as it is.
 */
import { BatchInferError, ErrorCodes, show } from '../lib/errors.js';
import { cellWriter } from '../lib/core/cells.js';
import { planInputs, type InputPlan } from '../lib/core/input-plan.js';
import type { ModelContract } from '../lib/core/model-contract.js';
import { rowSize, type Tensor } from '../lib/core/tensor.js';

/** One instance: its cell texts in the plan's column order, or an array of the only input's row values. */
export type Instance =
  { where: string; values: (string | undefined)[] } | { where: string; array: unknown[] };

/** Refuses one instance; `where` names it for the client: `instances[3]`, `Row 3 (line 4)`. */
export function badInstance(where: string, reason: string): never {
  throw new BatchInferError(ErrorCodes.BAD_RECORD, `${where}: ${reason}`);
}

const plans = new WeakMap<ModelContract, InputPlan>();

/** The input plan of a served model's contract (made once per loaded contract). */
export function inputPlanOf(contract: ModelContract): InputPlan {
  let plan = plans.get(contract);
  if (plan === undefined) {
    plan = planInputs(contract);
    plans.set(contract, plan);
  }
  return plan;
}

/**
 * A JSON value as cell text: numbers as JavaScript prints them (which the strict decimal parser accepts), null
 * as an empty cell (NaN for a float input), an absent key as a missing value.
 */
function cellText(value: unknown, where: string, column: string): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return '';
  if (value === undefined) return undefined;
  return badInstance(
    where,
    `column ${JSON.stringify(column)}: expected a number, a string or a boolean, got ${show(value)}`,
  );
}

/** A record whose array values (an `[N, K]` input's row, `"x": [1, 2]`) are its `x_0`, `x_1` columns too. */
function flatRecord(record: Record<string, unknown>): Record<string, unknown> {
  if (!Object.values(record).some(Array.isArray)) return record;
  const flat: Record<string, unknown> = { ...record };
  for (const [key, value] of Object.entries(record))
    if (Array.isArray(value)) (value as unknown[]).forEach((v, j) => (flat[`${key}_${j}`] ??= v));
  return flat;
}

/** One JSON instance: a raw record (object) or an array of the only input's row. */
export function jsonInstance(plan: InputPlan, instance: unknown, where: string): Instance {
  if (Array.isArray(instance)) return { where, array: instance };
  if (typeof instance === 'object' && instance !== null) {
    const record = flatRecord(instance as Record<string, unknown>);
    return {
      where,
      values: plan.columns.map((c) => cellText(Object.hasOwn(record, c) ? record[c] : undefined, where, c)),
    };
  }
  return badInstance(
    where,
    `expected a record (an object of column values) or an array of ${arrayWidth(plan) ?? 'input'} feature values, got ${show(instance)}`,
  );
}

/** The instances of a JSON `instances` list; a bad one is named by its index, `instances[3]`. */
export function jsonInstances(plan: InputPlan, instances: readonly unknown[]): Instance[] {
  return instances.map((instance, i) => jsonInstance(plan, instance, `instances[${i}]`));
}

/** Values per row of a model's only input, when it has one. */
function arrayWidth(plan: InputPlan): number | undefined {
  const [only] = plan.inputs;
  return plan.inputs.length === 1 && only !== undefined
    ? only.shape.slice(1).reduce((a, b) => a * b, 1)
    : undefined;
}

/** Writes an array instance into row `row` of the only input. */
function writeArray(
  plan: InputPlan,
  tensors: readonly Tensor[],
  row: number,
  instance: { where: string; array: unknown[] },
): void {
  const [spec] = plan.inputs;
  const [tensor] = tensors;
  if (spec === undefined || tensor === undefined || plan.inputs.length !== 1)
    badInstance(
      instance.where,
      `an array instance needs a model with one input; this one has ${plan.inputs.length}: send records (objects of column values)`,
    );
  const width = rowSize(tensor);
  const { array, where } = instance;
  if (array.length !== width)
    badInstance(
      where,
      `a feature array needs ${width} values${plan.monitored.length === width ? ` (${plan.monitored.map((f) => f.name).join(', ')})` : ''}, got ${array.length}`,
    );
  const write = cellWriter(spec.datatype);
  array.forEach((v, i) => {
    // A float array element must be a number (not text that parses as one): the form feature vectors take.
    // A feature array is model-ready values: numbers (booleans for BOOL), strings for BYTES; no null, no text.
    if (spec.datatype !== 'BYTES' && typeof v !== 'number' && typeof v !== 'boolean')
      badInstance(where, `feature ${i} is ${show(v)}, not a number`);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    const result = write(text, tensor.data, row * width + i);
    if (typeof result === 'string') badInstance(where, `feature ${i}: ${result}`);
  });
}

/** The model's input tensors for a list of instances. */
export function instanceTensors(plan: InputPlan, instances: readonly Instance[]): Tensor[] {
  const tensors = plan.allocate(instances.length);
  const writer = plan.bind(plan.columns);
  const raw = new Float64Array(plan.monitored.length);
  instances.forEach((instance, row) => {
    if ('array' in instance) writeArray(plan, tensors, row, instance);
    else {
      const reason = writer(instance.values, raw, tensors, row);
      if (reason !== undefined) badInstance(instance.where, reason);
    }
  });
  return tensors;
}
