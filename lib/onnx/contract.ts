/**
 * A model version's contract: what its ONNX graph says (lib/onnx/graph.ts), completed by its model.json when it
 * has one. model.json may leave out anything the graph says (inputs, outputs, the labels of a ZipMap); what it
 * does say must agree with the graph, or the model does not load: a disagreement names both sides.
 */
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import {
  completeContract,
  type ModelContract,
  type PartialContract,
  type TensorSpec,
} from '../core/model-contract.js';
import type { GraphContract } from './graph.js';

function disagree(name: string, message: string): never {
  throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `Model ${show(name)}: ${message}`, {
    context: { model: name },
  });
}

const describe = (t: TensorSpec): string => `${t.datatype} ${show(t.shape)}`;

/**
 * model.json's tensors checked against the graph's: the same names, datatypes and ranks, each dim equal unless
 * one side leaves it variable (-1). Each dim is the more specific of the two.
 */
function agreeingTensors(
  name: string,
  kind: 'input' | 'output',
  declared: readonly TensorSpec[] | undefined,
  graph: readonly TensorSpec[],
): TensorSpec[] {
  if (declared === undefined) return graph.map((t) => ({ ...t, shape: [...t.shape] }));
  const names = (ts: readonly TensorSpec[]): string => ts.map((t) => t.name).join(', ') || 'none';
  const extra = declared.filter((d) => !graph.some((g) => g.name === d.name));
  if (extra.length > 0)
    disagree(
      name,
      `model.json declares ${kind}(s) ${names(extra)} that model.onnx lacks (model.onnx has ${names(graph)})`,
    );
  if (kind === 'input') {
    const missing = graph.filter((g) => !declared.some((d) => d.name === g.name));
    if (missing.length > 0)
      disagree(
        name,
        `model.json leaves out input(s) ${names(missing)} of model.onnx (it declares ${names(declared)})`,
      );
  }
  return declared.map((d) => {
    const g = graph.find((t) => t.name === d.name) as TensorSpec;
    const fits =
      d.datatype === g.datatype &&
      d.shape.length === g.shape.length &&
      d.shape.every((dim, i) => dim === -1 || g.shape[i] === -1 || dim === g.shape[i]);
    if (!fits)
      disagree(
        name,
        `model.json says ${kind} ${show(d.name)} is ${describe(d)}; model.onnx has ${describe(g)}`,
      );
    // The more specific of the two: a dim the graph fixes stays fixed where model.json says -1.
    return {
      name: d.name,
      datatype: d.datatype,
      shape: d.shape.map((dim, i) => (dim === -1 ? (g.shape[i] as number) : dim)),
    };
  });
}

/** The contract of a model version from its graph and, when it has one, its checked model.json. */
export function contractFromGraph(
  name: string,
  graph: GraphContract,
  json: PartialContract | undefined,
): ModelContract {
  if (json === undefined) {
    return completeContract(
      {
        format: 1,
        name,
        source: 'graph',
        inputs: graph.inputs,
        outputs: graph.outputs,
        labels: graph.labels,
        ...(graph.probabilityOutput === undefined ? {} : { probability_output: graph.probabilityOutput }),
        ...(graph.labelOutput === undefined ? {} : { label_output: graph.labelOutput }),
      },
      name,
    );
  }
  const labels = json.labels ?? graph.labels;
  if (json.labels !== undefined && graph.labels.length > 0 && show(json.labels) !== show(graph.labels))
    disagree(name, `model.json's labels ${show(json.labels)} differ from the graph's ${show(graph.labels)}`);
  const outputs = agreeingTensors(name, 'output', json.outputs, graph.outputs);
  // The graph's roles hold for outputs model.json keeps; its own roles are checked by completeContract.
  const kept = (output: string | undefined): string | undefined =>
    output !== undefined && outputs.some((o) => o.name === output) ? output : undefined;
  const probability = json.probability_output ?? kept(graph.probabilityOutput);
  const label = json.label_output ?? kept(graph.labelOutput);
  return completeContract(
    {
      ...json,
      source: 'model.json',
      inputs: agreeingTensors(name, 'input', json.inputs, graph.inputs),
      outputs,
      labels,
      ...(probability === undefined ? {} : { probability_output: probability }),
      ...(label === undefined ? {} : { label_output: label }),
    },
    name,
  );
}
