/**
 * Writes a one-hidden-layer MLP (Gemm → Relu → Gemm → Softmax) as an ONNX model. Nothing in the output
 * depends on time or environment, so the same weights always give the same bytes.
 */
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

const { onnx } = onnxProto;

export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'probabilities';
const OPSET = 13;
const IR_VERSION = 8;

/** A dense layer in tfjs layout: `kernel` is inputs × units, row-major; `bias` has `units` values. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

export interface MlpExport {
  /** Graph name, also used in the model's doc string. */
  name: string;
  hidden: DenseWeights;
  output: DenseWeights;
}

function floatTensor(name: string, dims: number[], values: Float32Array): Onnx.ITensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected)
    throw new Error(`${name}: ${values.length} values for dims [${dims.join(', ')}]`);
  // raw_data is little-endian by the ONNX spec whatever the host's byte order.
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setFloat32(i * 4, v, true);
  });
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

function batchTensorInfo(name: string, width: number): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] },
      },
    },
  };
}

function node(
  opType: string,
  inputs: string[],
  output: string,
  attribute: Onnx.IAttributeProto[] = [],
): Onnx.INodeProto {
  return { name: output, opType, input: inputs, output: [output], attribute };
}

/** Serializes the MLP; the kernels go in as Gemm's B unchanged since tfjs and Gemm share the inputs × units layout. */
export function exportMlpToOnnx({ name, hidden, output }: MlpExport): Uint8Array {
  if (output.inputs !== hidden.units)
    throw new Error(`output layer takes ${output.inputs} inputs, hidden has ${hidden.units} units`);
  const graph: Onnx.IGraphProto = {
    name,
    node: [
      node('Gemm', [INPUT_NAME, 'W1', 'b1'], 'hidden_linear'),
      node('Relu', ['hidden_linear'], 'hidden'),
      node('Gemm', ['hidden', 'W2', 'b2'], 'logits'),
      node('Softmax', ['logits'], OUTPUT_NAME, [
        { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ]),
    ],
    initializer: [
      floatTensor('W1', [hidden.inputs, hidden.units], hidden.kernel),
      floatTensor('b1', [hidden.units], hidden.bias),
      floatTensor('W2', [output.inputs, output.units], output.kernel),
      floatTensor('b2', [output.units], output.bias),
    ],
    input: [batchTensorInfo(INPUT_NAME, hidden.inputs)],
    output: [batchTensorInfo(OUTPUT_NAME, output.units)],
  };
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'batch-infer',
    docString: `${name}: MLP ${hidden.inputs} → ${hidden.units} (ReLU) → ${output.units} (softmax)`,
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
