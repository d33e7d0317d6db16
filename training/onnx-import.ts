/**
 * Reads the weights back out of an MLP written by onnx-export.ts, so fine-tuning starts from exactly the model
 * that is served (its model.onnx), not from a cache of the run that trained it. Anything but that graph
 * (Gemm → Relu → Gemm → Softmax over W1, b1, W2, b2) is refused rather than misread.
 */
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import type { DenseWeights, MlpExport } from './onnx-export.js';

const { onnx } = onnxProto;

function floats(tensor: Onnx.ITensorProto): Float32Array {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT)
    throw new Error(`initializer ${tensor.name ?? '?'} is not FLOAT`);
  const raw = tensor.rawData;
  if (raw !== null && raw !== undefined && raw.length > 0) {
    // raw_data is little-endian by the ONNX spec whatever the host's byte order.
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  return Float32Array.from(tensor.floatData ?? []);
}

function dense(
  initializers: Map<string, Onnx.ITensorProto>,
  kernelName: string,
  biasName: string,
): DenseWeights {
  const kernel = initializers.get(kernelName);
  const bias = initializers.get(biasName);
  if (kernel === undefined || bias === undefined)
    throw new Error(`no ${kernelName} and ${biasName} initializers`);
  const [inputs, units] = (kernel.dims ?? []).map(Number);
  if (inputs === undefined || units === undefined || (bias.dims ?? []).map(Number)[0] !== units)
    throw new Error(`${kernelName} / ${biasName} do not have the shapes of a dense layer`);
  const weights = { kernel: floats(kernel), bias: floats(bias), inputs, units };
  if (weights.kernel.length !== inputs * units || weights.bias.length !== units)
    throw new Error(`${kernelName} / ${biasName} hold the wrong number of values`);
  return weights;
}

/** The hidden and output layers of the MLP in `bytes` (a model.onnx from onnx-export.ts). */
export function readMlpFromOnnx(bytes: Uint8Array): MlpExport {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  const ops = (graph?.node ?? []).map((n) => n.opType).join(' → ');
  if (graph === null || graph === undefined || ops !== 'Gemm → Relu → Gemm → Softmax')
    throw new Error(`expected an MLP graph Gemm → Relu → Gemm → Softmax, got ${ops || 'no graph'}`);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  return {
    name: graph.name ?? '',
    hidden: dense(initializers, 'W1', 'b1'),
    output: dense(initializers, 'W2', 'b2'),
  };
}
