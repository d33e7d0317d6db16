/**
 * The `{"instances": […]}` → `{"predictions": […]}` form of Vertex AI and SageMaker containers, for any model:
 *
 * - a model with one input sends each row as an array of its values (`[[0.1, 2.3, …], …]`, the form feature
 *   vectors take); a model with several sends each row as an object of its inputs (`{"sex": "male", "age": 22}`),
 *   the raw records `batch-infer serve` reads with the same input plan as the batch pipeline;
 * - a classifier's predictions are its probabilities (`[0.1, 0.9]`) or an object holding them
 *   (lib/adapters/predictions.ts), with `label` for its label output; any other model's are objects of its
 *   outputs (`{"variable": 151.2}`), or the bare value of its only output.
 */
import { show } from '../errors.js';
import { elementCount } from '../core/datatypes.js';
import { probabilityOutput, type ModelContract, type TensorSpec } from '../core/model-contract.js';
import { float32JsonBytes } from '../core/probability-text.js';
import { elementJson, tensorDataFromJson } from '../core/tensor-json.js';
import { rowSize, type Tensor } from '../core/tensor.js';
import { readPredictions } from './predictions.js';
import { badResponse } from './v2-outputs.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * `{"instances": [[features…], …]}`: one feature array per row, the body Vertex AI and our SageMaker route take;
 * written as bytes, each value with the 9 significant digits that give back its float32 (as `v2-json`).
 */
export function featureInstancesJson(tensor: Float32Array, rows: number, width: number): Buffer {
  return float32JsonBytes('{"instances":', tensor.subarray(0, rows * width), '}', width);
}

/** Row i of a tensor as JSON: its value for a one-element row of several inputs, else an array. */
function rowJson(tensor: Tensor, i: number, bare: boolean): string {
  const size = rowSize(tensor);
  if (bare && size === 1) return elementJson(tensor, i);
  const values: string[] = [];
  for (let j = i * size; j < (i + 1) * size; j++) values.push(elementJson(tensor, j));
  return `[${values.join(',')}]`;
}

/** A batch's inputs as an `{"instances": […]}` body. */
export function instancesJson(inputs: readonly Tensor[]): Buffer {
  const [only] = inputs;
  const rows = only?.shape[0] ?? 0;
  if (inputs.length === 1 && only !== undefined && only.data instanceof Float32Array)
    return featureInstancesJson(only.data, rows, rowSize(only));
  const instances: string[] = [];
  for (let i = 0; i < rows; i++) {
    instances.push(
      inputs.length === 1
        ? rowJson(only as Tensor, i, false)
        : `{${inputs.map((t) => `${JSON.stringify(t.name)}:${rowJson(t, i, true)}`).join(',')}}`,
    );
  }
  return Buffer.from(`{"instances":[${instances.join(',')}]}`);
}

/** An output's values, row by row, as a tensor of its contract's datatype. */
function outputOf(spec: TensorSpec, values: unknown[], rows: number): Tensor {
  const flat = values.flatMap((v): unknown[] => (Array.isArray(v) ? (v.flat(Infinity) as unknown[]) : [v]));
  const inner = spec.shape.slice(1);
  const perRow = rows === 0 ? 0 : flat.length / rows;
  const fits = !inner.includes(-1) && elementCount(inner) === perRow;
  const shape = fits ? [rows, ...inner] : perRow === 1 ? [rows] : [rows, perRow];
  const data = tensorDataFromJson(spec.datatype, flat);
  if (typeof data === 'string') return badResponse(`Predictions of output ${show(spec.name)}: ${data}`);
  return { name: spec.name, datatype: spec.datatype, shape, data };
}

/** The outputs named `names` of a `predictions` list for `rows` instances. */
export function readInstancePredictions(
  predictions: unknown,
  rows: number,
  contract: ModelContract,
  names: readonly string[],
): Tensor[] {
  if (!Array.isArray(predictions)) return badResponse('Model server response has no `predictions` array');
  if (predictions.length !== rows)
    badResponse(`Model server returned ${predictions.length} predictions for ${rows} instances`);
  const probabilities = probabilityOutput(contract);
  return names.map((name) => {
    const spec = contract.outputs.find((o) => o.name === name) as TensorSpec;
    if (name === probabilities?.name) {
      const k = contract.labels.length;
      return {
        name,
        datatype: 'FP32',
        shape: [rows, k],
        data: readPredictions(predictions, rows, contract.labels),
      };
    }
    const key = name === contract.label_output ? 'label' : name;
    const single = contract.outputs.length === 1;
    const values = (predictions as unknown[]).map((p, i): unknown => {
      if (isObject(p) && Object.hasOwn(p, key)) return p[key];
      if (single && !isObject(p)) return p;
      return badResponse(`Prediction ${i} lacks ${show(key)}: ${show(p).slice(0, 200)}`);
    });
    // A label output answered as text (`"1"`) for an integer label: read as the number it names.
    const typed =
      spec.datatype === 'BYTES'
        ? values
        : values.map((v) => (typeof v === 'string' && key === 'label' ? Number(v) : v));
    return outputOf(spec, typed, rows);
  });
}
