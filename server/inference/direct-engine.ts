/** An engine that runs a LoadedModel on the calling thread, one request at a time as it comes. */
import * as ort from 'onnxruntime-node';
import { datatypeInfo } from '../../lib/core/datatypes.js';
import type { LoadedModel } from '../../lib/onnx/loaded-model.js';
import type { InferenceEngine, Tensor, TensorData } from './types.js';

export function directEngine(model: LoadedModel): InferenceEngine {
  return {
    async infer(inputs, outputNames) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of inputs) {
        feeds[input.name] = new ort.Tensor(
          datatypeInfo(input.datatype).ort as 'float32',
          input.data as Float32Array,
          input.shape,
        );
      }
      const outputs = await model.run(feeds, outputNames);
      return outputs.map((o): Tensor => ({
        name: o.name,
        datatype: o.datatype,
        shape: o.shape,
        data: o.data as TensorData,
      }));
    },
    close: () => model.close(),
  };
}
