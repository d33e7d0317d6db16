/**
 * Which outputs a run asks for and the columns they become (DESIGN.md, "Outputs → columns"):
 *
 * - a classifier — labels known and its probability output asked for — writes `prediction` (its label output's
 *   value when it has one, as skl2onnx exports, else the most probable label) and `probability_<label>` per
 *   class, in label order;
 * - every other output writes one column named after it for `[N]` or `[N, 1]`, else `<output>_<j>` per element
 *   of a row.
 *
 * The `outputs` option (`--outputs a,b`) selects output tensors; by default every output is asked for.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import { probabilityOutput, type Datatype, type ModelContract, type TensorSpec } from './model-contract.js';

export interface ClassifierOutputs {
  /** The output holding probabilities, rows × labels. */
  probabilities: string;
  /** The output holding each row's predicted label, when the model has one. */
  label: string | undefined;
  labels: readonly string[];
}

/** An output written as plain columns: `columns` per row. */
export interface ColumnOutput {
  name: string;
  columns: readonly string[];
  /** The output's datatype: what type its columns have in a typed output (Parquet, a table). */
  datatype: Datatype;
}

export interface OutputPlan {
  /** The outputs to ask the model for, in order. */
  readonly outputs: readonly string[];
  /** The classifier's outputs, when the run writes `prediction` and probabilities. */
  readonly classifier: ClassifierOutputs | undefined;
  /** The other outputs, written after the classifier's columns, in order. */
  readonly plain: readonly ColumnOutput[];
  /** Every column the outputs become, in order. */
  readonly columns: readonly string[];
}

function fail(contract: ModelContract, message: string): never {
  throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Model ${show(contract.name)}: ${message}`, {
    context: { model: contract.name },
  });
}

function plainColumns(contract: ModelContract, spec: TensorSpec): string[] {
  const inner = spec.shape.slice(1);
  if (inner.includes(-1))
    fail(
      contract,
      `output ${show(spec.name)} has the variable shape ${show(spec.shape)}, so its columns are not known before the run; leave it out with \`--outputs\``,
    );
  const count = inner.reduce((a, b) => a * b, 1);
  return count === 1 ? [spec.name] : Array.from({ length: count }, (_, j) => `${spec.name}_${j}`);
}

/** The plan for a model; `outputs` (the option) names the output tensors to write, in order. */
export function planOutputs(contract: ModelContract, outputs?: readonly string[]): OutputPlan {
  const names = contract.outputs.map((o) => o.name);
  const chosen = outputs ?? names;
  const unknown = chosen.filter((n) => !names.includes(n));
  if (unknown.length > 0)
    fail(contract, `it has no output(s) ${unknown.join(', ')} (its outputs: ${names.join(', ')})`);
  if (chosen.length === 0) fail(contract, 'the `outputs` option names no output');
  const probabilities = probabilityOutput(contract);
  const classifier =
    probabilities !== undefined && chosen.includes(probabilities.name)
      ? {
          probabilities: probabilities.name,
          // Asked for (as by default): the label column is the model's own prediction.
          label:
            contract.label_output !== undefined && chosen.includes(contract.label_output)
              ? contract.label_output
              : undefined,
          labels: contract.labels,
        }
      : undefined;
  const plain = chosen
    .filter((n) => n !== classifier?.probabilities && n !== classifier?.label)
    .map((name) => {
      const spec = contract.outputs.find((o) => o.name === name) as TensorSpec;
      return { name, columns: plainColumns(contract, spec), datatype: spec.datatype };
    });
  return {
    outputs: chosen,
    classifier,
    plain,
    columns: [
      ...(classifier === undefined
        ? []
        : ['prediction', ...classifier.labels.map((l) => `probability_${l}`)]),
      ...plain.flatMap((p) => p.columns),
    ],
  };
}

/** The plan of a classifier whose only output is its probabilities (`probabilities`, as `weather`'s). */
export function classifierPlan(labels: readonly string[], probabilities = 'probabilities'): OutputPlan {
  return {
    outputs: [probabilities],
    classifier: { probabilities, label: undefined, labels },
    plain: [],
    columns: ['prediction', ...labels.map((l) => `probability_${l}`)],
  };
}
