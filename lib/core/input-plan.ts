/**
 * How a run feeds a model from the columns of its input (DESIGN.md, "Column → input mapping"), decided once
 * from the model's contract:
 *
 * - a feature spec (model.json's `features`) builds one FP32 `[N, K]` input from K columns with its transforms
 *   and standardization (lib/core/features.ts) — the bundled `weather` model's path, unchanged;
 * - the `features` option (`--features a,b,c`), or a feature spec without transforms, feeds one `[N, K]` input
 *   of any datatype from K columns, each cell parsed for that datatype (lib/core/cells.ts);
 * - otherwise every input of shape `[N, 1]` or `[N]` reads the column of its own name, as skl2onnx and tf2onnx
 *   name them, and an `[N, K]` input the columns `<input>_0` … `<input>_<K-1>`.
 *
 * A plan writes one row at a time into a batch's tensors, at the row's position, and hands the row's raw values
 * (in `monitored` order) to data-quality and drift profiles.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { Cell } from '../io/table.js';
import { cellWriter, type CellWriter } from './cells.js';
import { featuresFromValues, requiredColumns, type FeatureSpec } from './features.js';
import type { ModelContract, TensorSpec } from './model-contract.js';
import { allocateTensor, type Tensor } from './tensor.js';

/**
 * Writes one row's values (in the input's column order) into row `row` of `tensors` and its raw values into
 * `raw`; answers the reason the row is unusable (the first bad column's), or undefined.
 */
export type RowWriter = (
  values: readonly (Cell | undefined)[],
  raw: Float64Array,
  tensors: readonly Tensor[],
  row: number,
) => string | undefined;

export interface InputPlan {
  /** The tensors sent to the model, in order, with every dim past the batch concrete. */
  readonly inputs: readonly TensorSpec[];
  /** The input columns read, in first-use order. */
  readonly columns: readonly string[];
  /** What each raw value of a row is (its feature name and column), in order: the drift profile's features. */
  readonly monitored: readonly { name: string; column: string }[];
  /** The batch size the model takes, when its inputs' first dim is fixed (a `[1, 2]` input takes 1 row). */
  readonly fixedBatch: number | undefined;
  /** The row writer for an input with these columns (which include every one of `columns`). */
  bind(columns: readonly string[]): RowWriter;
  /** Tensors for a batch of `rows` rows. */
  allocate(rows: number): Tensor[];
}

function fail(contract: ModelContract, message: string): never {
  throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Model ${show(contract.name)}: ${message}`, {
    context: { model: contract.name },
  });
}

const isPlain = (f: FeatureSpec): boolean =>
  (f.transform === undefined || f.transform.type === 'number') && f.standardize === undefined;

/** The first dim every input has when it is fixed, else undefined; inputs that disagree are refused. */
function fixedBatchOf(contract: ModelContract): number | undefined {
  const firsts = new Set(contract.inputs.map((i) => i.shape[0] ?? -1));
  if (firsts.size === 1 && !firsts.has(-1)) return [...firsts][0];
  if (firsts.size > 1)
    fail(
      contract,
      `its inputs disagree on the batch dim (${contract.inputs.map((i) => show(i.shape)).join(', ')})`,
    );
  return undefined;
}

/** One `[N, K]` input fed from K columns by the feature spec's transforms (an FP32 input). */
function featureSpecPlan(
  contract: ModelContract,
  spec: TensorSpec,
  fixedBatch: number | undefined,
): InputPlan {
  const { features } = contract;
  const width = features.length;
  const input: TensorSpec = { ...spec, shape: [spec.shape[0] ?? -1, width] };
  return {
    inputs: [input],
    columns: requiredColumns(features),
    monitored: features.map((f) => ({ name: f.name, column: f.column })),
    fixedBatch,
    bind(columns) {
      const featurize = featuresFromValues(features, columns);
      return (values, raw, tensors, row) =>
        featurize(values, raw, (tensors[0] as Tensor).data as Float32Array, row * width);
    },
    allocate: (rows) => [allocateTensor(input, rows)],
  };
}

interface PlannedCell {
  input: number;
  /** The feature's name in profiles: its column's, unless a feature spec names it. */
  name: string;
  /** Position of the element within the input's row. */
  element: number;
  column: string;
  write: CellWriter;
  /** Where its raw value goes, or -1 (a BYTES cell). */
  raw: number;
}

/** Inputs fed cell by cell: each cell one element of one input's row, parsed for the input's datatype. */
function cellPlan(
  inputs: TensorSpec[],
  cells: readonly Omit<PlannedCell, 'write' | 'raw'>[],
  fixedBatch: number | undefined,
): InputPlan {
  const monitored: { name: string; column: string }[] = [];
  const planned: PlannedCell[] = cells.map((c) => {
    const { datatype } = inputs[c.input] as TensorSpec;
    const raw = datatype === 'BYTES' ? -1 : monitored.push({ name: c.name, column: c.column }) - 1;
    return { ...c, write: cellWriter(datatype), raw };
  });
  const widths = inputs.map((i) => i.shape.slice(1).reduce((a, b) => a * b, 1));
  return {
    inputs,
    columns: [...new Set(cells.map((c) => c.column))],
    monitored,
    fixedBatch,
    bind(columns) {
      const steps = planned.map((c) => ({
        ...c,
        index: columns.indexOf(c.column),
        width: widths[c.input] as number,
        label: `column ${JSON.stringify(c.column)}`,
      }));
      return (values, raw, tensors, row) => {
        let reason: string | undefined;
        for (const step of steps) {
          const result = step.write(
            step.index < 0 ? undefined : values[step.index],
            (tensors[step.input] as Tensor).data,
            row * step.width + step.element,
          );
          if (typeof result === 'string') {
            reason ??= `${step.label}: ${result}`;
            if (step.raw >= 0) raw[step.raw] = Number.NaN;
          } else if (step.raw >= 0) raw[step.raw] = result;
        }
        return reason;
      };
    },
    allocate: (rows) => inputs.map((spec) => allocateTensor(spec, rows)),
  };
}

/** `[N, K]` (or `[N]` when K is 1): the only input's rank and width, for K columns. */
function widthFits(spec: TensorSpec, k: number): boolean {
  const last = spec.shape[spec.shape.length - 1];
  return (spec.shape.length === 2 && (last === -1 || last === k)) || (spec.shape.length === 1 && k === 1);
}

/**
 * The plan for a model. `features` (the option) names the K columns of a model with one `[N, K]` input and no
 * feature spec of its own.
 */
export function planInputs(contract: ModelContract, features?: readonly string[]): InputPlan {
  const fixedBatch = fixedBatchOf(contract);
  const [only] = contract.inputs;
  const single = contract.inputs.length === 1 ? only : undefined;
  if (features !== undefined) {
    if (contract.features.length > 0)
      fail(
        contract,
        `its model.json builds input ${show(only?.name)} from ${contract.features.length} features; the \`features\` option cannot replace them`,
      );
    if (single === undefined || !widthFits(single, features.length))
      fail(
        contract,
        `the \`features\` option names ${features.length} column(s) for one input of shape [-1, ${features.length}], but the model takes ${contract.inputs.map((i) => `${i.name} ${show(i.shape)}`).join(', ')}`,
      );
    const input = {
      ...single,
      shape: single.shape.length === 1 ? [single.shape[0] ?? -1] : [single.shape[0] ?? -1, features.length],
    };
    return cellPlan(
      [input],
      features.map((column, element) => ({ input: 0, element, column, name: column })),
      fixedBatch,
    );
  }
  if (contract.features.length > 0) {
    const spec = only as TensorSpec;
    // Plain features (a column each, no transform) read cells like any input; transforms need the DSL's FP32 path.
    if (contract.features.every(isPlain)) {
      const input = { ...spec, shape: [spec.shape[0] ?? -1, contract.features.length] };
      return cellPlan(
        [input],
        contract.features.map((f, element) => ({ input: 0, element, column: f.column, name: f.name })),
        fixedBatch,
      );
    }
    if (spec.datatype !== 'FP32')
      fail(contract, `a feature spec with transforms needs an FP32 input; ${spec.name} is ${spec.datatype}`);
    return featureSpecPlan(contract, spec, fixedBatch);
  }
  // Each input reads the column of its name, or `<name>_<j>` for element j of an `[N, K]` input (the way output
  // columns are named), so several inputs of any width map onto a flat table.
  const bad = contract.inputs.find(
    (i) => i.shape.length === 0 || i.shape.length > 2 || (i.shape.length === 2 && (i.shape[1] ?? -1) < 1),
  );
  if (bad !== undefined)
    fail(
      contract,
      single !== undefined && bad.shape.length === 2
        ? `input ${show(bad.name)} of shape ${show(bad.shape)} takes a variable number of columns per row: name them in order with \`--features a,b,…\` (option \`features\`) or in model.json's \`features\``
        : `input ${show(bad.name)} of shape ${show(bad.shape)} cannot be read from CSV columns (only [-1, K] or [-1] inputs)`,
    );
  const widthOf = (i: TensorSpec): number => (i.shape.length === 1 ? 1 : (i.shape[1] as number));
  const inputs = contract.inputs.map((i) => ({
    ...i,
    shape: i.shape.length === 1 ? [i.shape[0] ?? -1] : [i.shape[0] ?? -1, widthOf(i)],
  }));
  return cellPlan(
    inputs,
    inputs.flatMap((i, input) => {
      const k = widthOf(i);
      return Array.from({ length: k }, (_, element) => ({
        input,
        element,
        column: i.shape.length === 2 && k > 1 ? `${i.name}_${element}` : i.name,
        name: i.shape.length === 2 && k > 1 ? `${i.name}_${element}` : i.name,
      }));
    }),
    fixedBatch,
  );
}
