/**
 * A model's contract read from its ONNX graph: tensor names, datatypes and shapes, class labels, and which
 * outputs hold the probabilities and the predicted label.
 *
 * skl2onnx ends classifiers with a ZipMap (ai.onnx.ml), whose output is a sequence of maps — one
 * `{label: probability}` per row. onnxruntime-node cannot return non-tensor values ("Non tensor type is
 * temporarily not supported"), so such a model would load and then fail on every request for its
 * probabilities. ZipMap only repackages its input, a float tensor [N, K] whose columns follow the ZipMap's
 * class labels, so replacing it by an Identity keeps the output's name and meaning and makes it servable:
 * the labels move into the contract instead of every row. (https://onnx.ai/onnx/operators/onnx_aionnxml_ZipMap.html)
 *
 * The file is decoded once with onnx-proto and re-encoded only when something was rewritten. onnx-proto
 * follows the ONNX 1.10 schema: fields added later are dropped when a model is re-encoded.
 */
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { BatchInferError, ErrorCodes, show } from '../errors.js';
import type { Datatype, TensorSpec } from '../core/model-contract.js';

const { onnx } = onnxProto;

export interface GraphContract {
  /** Graph inputs that are not initializers, in graph order. */
  inputs: TensorSpec[];
  /** Graph outputs in graph order, after the ZipMap rewrite (a rewritten one is FP32 [N, K]). */
  outputs: TensorSpec[];
  /**
   * Class labels (as strings) found in the graph: a ZipMap's classlabels_strings / classlabels_int64s, else an
   * ai.onnx.ml *Classifier node's classlabels_strings / classlabels_ints feeding an output. Empty when none.
   */
  labels: string[];
  /** The output holding class probabilities [N, K] aligned with `labels`, when known. */
  probabilityOutput?: string;
  /** The output holding the predicted class label ([N] INT64 or BYTES), when known. */
  labelOutput?: string;
  /** Outputs that were ZipMaps in the file and are served as FP32 [N, K] tensors. */
  rewrittenOutputs: string[];
  /** The model's producer, informative: `"skl2onnx 1.17.0"`. */
  producer?: string;
}

const ML_DOMAIN = 'ai.onnx.ml';
/** Ops that pass a tensor's values through: a classifier's outputs are followed across them to graph outputs. */
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Reshape']);
/** Added when the model imports no default-domain opset, so the Identity that replaces a ZipMap resolves. */
const IDENTITY_OPSET = 13;

/** ONNX TensorProto.DataType names by number, lower case as ONNX prints them (`tensor(float)`). */
const ELEM_NAMES = [
  'undefined',
  'float',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'double',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
  'float8e8m0',
];

const DATATYPES: Partial<Record<string, Datatype>> = {
  float: 'FP32',
  double: 'FP64',
  float16: 'FP16',
  bool: 'BOOL',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  string: 'BYTES',
};

/** An int64 field: a Long when the `long` package is present (its types may not be), else a number. */
type Int = number | { toString(): string };

function toNumber(value: Int): number {
  return typeof value === 'number' ? value : Number(value.toString());
}

function elemName(elemType: number | null | undefined): string {
  return ELEM_NAMES[elemType ?? 0] ?? `type ${String(elemType)}`;
}

/** Renders a type for a message: `tensor(bfloat16)`, `sequence<map<string,float>>`. */
function describeType(type: Onnx.ITypeProto | null | undefined, inMap = false): string {
  if (type?.tensorType) {
    const name = elemName(type.tensorType.elemType);
    return inMap ? name : `tensor(${name})`;
  }
  if (type?.sequenceType) return `sequence<${describeType(type.sequenceType.elemType)}>`;
  if (type?.mapType)
    return `map<${elemName(type.mapType.keyType)},${describeType(type.mapType.valueType, true)}>`;
  if (type?.optionalType) return `optional<${describeType(type.optionalType.elemType)}>`;
  if (type?.sparseTensorType) return `sparse_tensor(${elemName(type.sparseTensorType.elemType)})`;
  return 'an unknown type';
}

function fail(model: string, message: string, cause?: unknown): never {
  throw new BatchInferError(ErrorCodes.MODEL_CONTRACT, `${model}: ${message}`, { cause, context: { model } });
}

/** Each dim's value, -1 for a symbolic or unset one; [-1] when the shape is unknown (as Triton reports it). */
function shapeOf(shape: Onnx.ITensorShapeProto | null | undefined): number[] {
  if (!shape) return [-1];
  return (shape.dim ?? []).map((d) => (d.dimValue == null ? -1 : toNumber(d.dimValue as Int)));
}

function tensorSpec(info: Onnx.IValueInfoProto, role: 'input' | 'output', model: string): TensorSpec {
  const name = info.name ?? '';
  const tensor = info.type?.tensorType;
  const datatype = tensor ? DATATYPES[elemName(tensor.elemType)] : undefined;
  if (!tensor || datatype === undefined) {
    fail(
      model,
      `model.onnx ${role} ${show(name)} has type ${describeType(info.type)}, which batch-infer cannot serve`,
    );
  }
  return { name, datatype, shape: shapeOf(tensor.shape) };
}

function attribute(node: Onnx.INodeProto, name: string): Onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** The class labels of a ZipMap or classifier node, as strings; [] when it has none. */
function classLabels(node: Onnx.INodeProto): string[] {
  const strings = attribute(node, 'classlabels_strings')?.strings;
  if (strings?.length) return strings.map((s) => new TextDecoder().decode(s));
  const ints = (attribute(node, 'classlabels_int64s') ?? attribute(node, 'classlabels_ints'))?.ints;
  return ((ints ?? []) as Int[]).map((i) => i.toString());
}

const isMl = (node: Onnx.INodeProto | undefined, opType: (op: string) => boolean): boolean =>
  node !== undefined && node.domain === ML_DOMAIN && opType(node.opType ?? '');
const isZipMap = (node: Onnx.INodeProto | undefined) => isMl(node, (op) => op === 'ZipMap');
const isClassifier = (node: Onnx.INodeProto | undefined) => isMl(node, (op) => op.endsWith('Classifier'));

function decode(bytes: Uint8Array, model: string): Onnx.ModelProto & { graph: Onnx.IGraphProto } {
  let decoded: Onnx.ModelProto;
  try {
    decoded = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    fail(
      model,
      `model.onnx is not a valid ONNX model: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    );
  }
  // Protobuf has no magic number: empty bytes, or bytes that happen to parse, decode to a model without a graph.
  const graph = decoded.graph;
  if (!graph) fail(model, 'model.onnx is not a valid ONNX model: it has no graph');
  return Object.assign(decoded, { graph });
}

/** Reads the contract; `onnx` is the model to load (the input bytes unchanged when nothing was rewritten). `model` names the model in errors. */
export function readGraph(bytes: Uint8Array, model: string): { contract: GraphContract; onnx: Uint8Array } {
  const decoded = decode(bytes, model);
  const graph = decoded.graph;
  const nodes = graph.node ?? [];
  const producers = new Map<string, Onnx.INodeProto>();
  const consumers = new Map<string, Onnx.INodeProto[]>();
  for (const node of nodes) {
    for (const out of node.output ?? []) producers.set(out, node);
    for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }

  const initializers = new Set([
    ...(graph.initializer ?? []).map((t) => t.name),
    ...(graph.sparseInitializer ?? []).map((t) => t.values?.name),
  ]);
  const inputs = (graph.input ?? [])
    .filter((info) => !initializers.has(info.name))
    .map((info) => tensorSpec(info, 'input', model));

  const zipMaps: { name: string; node: Onnx.INodeProto; labels: string[] }[] = [];
  const graphOutputs = graph.output ?? [];
  const outputs = graphOutputs.map((info, i) => {
    const name = info.name ?? '';
    const node = producers.get(name);
    // A ZipMap that feeds other nodes too cannot become an Identity: they expect its maps.
    if (!isZipMap(node) || consumers.has(name)) return tensorSpec(info, 'output', model);
    const zipMap = node as Onnx.INodeProto;
    const labels = classLabels(zipMap);
    const source = zipMap.input?.[0] ?? '';
    const known = [...(graph.valueInfo ?? []), ...(graph.input ?? []), ...graphOutputs].find(
      (v) => v.name === source && v.type?.tensorType?.shape,
    )?.type?.tensorType?.shape;
    const shapeProto = known ?? {
      dim: [{ dimParam: 'N' }, labels.length > 0 ? { dimValue: labels.length } : {}],
    };
    nodes[nodes.indexOf(zipMap)] = onnx.NodeProto.create({
      name: zipMap.name ?? '',
      opType: 'Identity',
      input: [source],
      output: [name],
    });
    graphOutputs[i] = onnx.ValueInfoProto.create({
      name,
      docString: info.docString ?? '',
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: shapeProto } },
    });
    zipMaps.push({ name, node: zipMap, labels });
    return { name, datatype: 'FP32' as const, shape: shapeOf(shapeProto) };
  });

  const contract: GraphContract = {
    inputs,
    outputs,
    ...findRoles(nodes, producers, consumers, outputs, zipMaps[0]),
    rewrittenOutputs: zipMaps.map((z) => z.name),
    ...producerOf(decoded),
  };
  if (zipMaps.length === 0) return { contract, onnx: bytes };

  const opsets = decoded.opsetImport;
  if (!opsets.some((o) => !o.domain || o.domain === 'ai.onnx'))
    decoded.opsetImport = [...opsets, { domain: '', version: IDENTITY_OPSET }];
  return { contract, onnx: onnx.ModelProto.encode(decoded).finish() };
}

function producerOf(model: Onnx.IModelProto): { producer?: string } {
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return producer === '' ? {} : { producer };
}

type Roles = Pick<GraphContract, 'labels' | 'probabilityOutput' | 'labelOutput'>;

/**
 * Which outputs hold the predicted label and the probabilities. The probabilities are a rewritten ZipMap's
 * output when there is one, else an ai.onnx.ml classifier's scores (its second output) reaching a graph output
 * through Identity/Cast/Reshape — skl2onnx's `zipmap=False`. The label is the classifier's first output,
 * followed the same way.
 */
function findRoles(
  nodes: Onnx.INodeProto[],
  producers: Map<string, Onnx.INodeProto>,
  consumers: Map<string, Onnx.INodeProto[]>,
  outputs: TensorSpec[],
  zipMap: { name: string; node: Onnx.INodeProto; labels: string[] } | undefined,
): Roles {
  const byName = new Map(outputs.map((o) => [o.name, o]));
  /** Graph outputs holding `tensor`'s values, `tensor` itself included. */
  const reached = (tensor: string | undefined): TensorSpec[] => {
    const found: TensorSpec[] = [];
    const queue = tensor === undefined ? [] : [tensor];
    const seen = new Set<string>();
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const spec = byName.get(name);
      if (spec) found.push(spec);
      for (const next of consumers.get(name) ?? []) {
        if (PASS_THROUGH.has(next.opType ?? '') && !next.domain && next.input?.[0] === name)
          queue.push(...(next.output ?? []));
      }
    }
    return found;
  };
  const labelOf = (classifier: Onnx.INodeProto | undefined) =>
    reached(classifier?.output?.[0]).find(
      (o) =>
        (o.datatype === 'INT64' || o.datatype === 'BYTES') &&
        (o.shape.length === 1 || (o.shape.length === 2 && o.shape[1] === 1)),
    )?.name;

  if (zipMap) {
    // The classifier upstream of the ZipMap, usually behind a Normalizer or a Cast.
    let node = producers.get(zipMap.node.input?.[0] ?? '');
    for (let steps = 0; node && !isClassifier(node) && steps < nodes.length; steps++)
      node = producers.get(node.input?.[0] ?? '');
    const labelOutput = isClassifier(node) ? labelOf(node) : undefined;
    return {
      labels: zipMap.labels,
      probabilityOutput: zipMap.name,
      ...(labelOutput === undefined ? {} : { labelOutput }),
    };
  }
  for (const classifier of nodes.filter(isClassifier)) {
    const labels = classLabels(classifier);
    const probabilityOutput = reached(classifier.output?.[1]).find(
      (o) =>
        (o.datatype === 'FP32' || o.datatype === 'FP64') &&
        o.shape.length === 2 &&
        (o.shape[1] === -1 || o.shape[1] === labels.length),
    )?.name;
    const labelOutput = labelOf(classifier);
    if (probabilityOutput === undefined && labelOutput === undefined) continue;
    return {
      labels,
      ...(probabilityOutput === undefined ? {} : { probabilityOutput }),
      ...(labelOutput === undefined ? {} : { labelOutput }),
    };
  }
  return { labels: [] };
}
